namespace Scheduler.Scenarios.Generation;

using System.Globalization;
using Scheduler.Scenarios.Data;

/// <summary>
/// An NREL NSRDB PSM v3 CSV. Line 1 holds metadata keys and line 2 their values (<c>Latitude</c>, <c>Longitude</c>,
/// <c>Time Zone</c>, <c>Elevation</c>, …); line 3 is the column header (<c>Year,Month,Day,Hour,Minute,GHI,DHI,DNI,Wind Speed,Temperature,…</c>).
/// Times are local standard time (<see cref="UtcOffsetHours"/>); in hourly files minute 30 marks the middle of the hour, so each row
/// is taken to cover the hour that starts at minute 0.
/// </summary>
public sealed class Psm3File
{
    private Psm3File(string locationId, double latitude, double longitude, double elevationMetres, double? utcOffsetHours,
        ClockSeries ghi, double[]? dni, double[]? dhi, double[] airCelsius, double[]? windMetresPerSecond)
    {
        LocationId = locationId;
        Latitude = latitude;
        Longitude = longitude;
        ElevationMetres = elevationMetres;
        UtcOffsetHours = utcOffsetHours;
        Ghi = ghi;
        Dni = dni;
        Dhi = dhi;
        AirCelsius = airCelsius;
        WindMetresPerSecond = windMetresPerSecond;
    }

    public string LocationId { get; }
    public double Latitude { get; }
    public double Longitude { get; }
    public double ElevationMetres { get; }

    /// <summary>The file's <c>Time Zone</c> metadata, hours from UTC; null if absent.</summary>
    public double? UtcOffsetHours { get; }

    /// <summary>Global horizontal irradiance, W/m², on the file's clock.</summary>
    public ClockSeries Ghi { get; }
    public double[]? Dni { get; }
    public double[]? Dhi { get; }

    /// <summary>Air temperature at 2 m, °C (same rows as <see cref="Ghi"/>).</summary>
    public double[] AirCelsius { get; }

    /// <summary>Wind speed at 2 m, m/s; null when the file has no such column.</summary>
    public double[]? WindMetresPerSecond { get; }

    public static Psm3File Read(string path)
    {
        using var reader = DataFile.OpenText(path);
        return Parse(reader, path);
    }

    public static Psm3File Parse(TextReader reader, string name)
    {
        var file = Path.GetFileName(name);
        var keys = Csv.Split(reader.ReadLine() ?? throw new FormatException($"{file}: empty PSM3 file"));
        var values = Csv.Split(reader.ReadLine() ?? throw new FormatException($"{file}: PSM3 metadata value line missing"));
        string? Meta(string key)
        {
            var i = Csv.FindColumn(keys, key);
            return i >= 0 && i < values.Length && keys[i].Trim().Equals(key, StringComparison.OrdinalIgnoreCase) ? values[i].Trim() : null;
        }
        static double Num(string? s) =>
            double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) ? v : double.NaN;

        var header = Csv.Split(reader.ReadLine() ?? throw new FormatException($"{file}: PSM3 column header (line 3) missing"));
        int iYear = Csv.RequireColumn(header, "Year", name), iMonth = Csv.RequireColumn(header, "Month", name),
            iDay = Csv.RequireColumn(header, "Day", name), iHour = Csv.RequireColumn(header, "Hour", name),
            iMinute = Csv.FindColumn(header, "Minute"), iGhi = Csv.RequireColumn(header, "GHI", name),
            iTemp = Csv.RequireColumn(header, "Temperature", name), iDni = Csv.FindColumn(header, "DNI"),
            iDhi = Csv.FindColumn(header, "DHI"), iWind = Csv.FindColumn(header, "Wind Speed");

        var starts = new List<DateTime>(8760);
        List<double> ghi = new(8760), temp = new(8760), dni = new(8760), dhi = new(8760), wind = new(8760);
        var minutes = new List<int>(8760);
        var lineNumber = 3;
        while (reader.ReadLine() is { } line)
        {
            lineNumber++;
            if (line.Length == 0) continue;
            var c = line.Split(',');
            var minute = iMinute >= 0 ? Csv.ParseInt(c[iMinute], name, lineNumber) : 0;
            starts.Add(new DateTime(Csv.ParseInt(c[iYear], name, lineNumber), Csv.ParseInt(c[iMonth], name, lineNumber),
                Csv.ParseInt(c[iDay], name, lineNumber), Csv.ParseInt(c[iHour], name, lineNumber), minute, 0));
            minutes.Add(minute);
            ghi.Add(Csv.ParseDouble(c[iGhi], name, lineNumber));
            temp.Add(Csv.ParseDouble(c[iTemp], name, lineNumber));
            if (iDni >= 0) dni.Add(Csv.ParseDouble(c[iDni], name, lineNumber));
            if (iDhi >= 0) dhi.Add(Csv.ParseDouble(c[iDhi], name, lineNumber));
            if (iWind >= 0) wind.Add(Csv.ParseDouble(c[iWind], name, lineNumber));
        }
        if (starts.Count < 2) throw new FormatException($"{file}: a PSM3 file needs at least two data rows");

        var interval = starts[1] - starts[0];
        // NSRDB stamps hourly rows at minute 30 (the middle); shift so each row covers [start, start + interval).
        if (interval.TotalMinutes >= 60 && minutes.All(m => m == minutes[0]) && minutes[0] * 2 == (int)interval.TotalMinutes)
            for (var i = 0; i < starts.Count; i++) starts[i] = starts[i].AddMinutes(-minutes[0]);

        var offset = Num(Meta("Time Zone"));
        return new Psm3File(Meta("Location ID") ?? "", Num(Meta("Latitude")), Num(Meta("Longitude")), Num(Meta("Elevation")),
            double.IsFinite(offset) ? offset : null,
            new ClockSeries(starts, interval, [.. ghi]), iDni >= 0 ? [.. dni] : null, iDhi >= 0 ? [.. dhi] : null,
            [.. temp], iWind >= 0 ? [.. wind] : null);
    }
}
