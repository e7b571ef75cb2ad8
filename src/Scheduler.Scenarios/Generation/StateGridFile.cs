namespace Scheduler.Scenarios.Generation;

using System.Globalization;
using System.Text.RegularExpressions;
using Scheduler.Scenarios.Data;

/// <summary>
/// A Chinese State Grid PV station file (Chen &amp; Xu 2022), as CSV: <c>Time(year-month-day h:m:s)</c>, irradiance columns,
/// <c>Air temperature (°C)</c>, <c>Atmosphere (hpa)</c>, optionally <c>Relative humidity (%)</c>, and <c>Power (MW)</c>.
/// Columns are found by their leading words, so the reduced copies (fewer columns, hourly) read the same way. Each row is taken to
/// cover [time, time + interval), the interval being the spacing of the first two rows. Clock: local, taken as China Standard Time.
/// </summary>
public sealed partial class StateGridFile
{
    /// <summary>China Standard Time, the presumed clock of the station files.</summary>
    public const double DefaultUtcOffsetHours = 8;

    private StateGridFile(ClockSeries ghi, double[]? total, double[] airCelsius, double[]? powerMegawatts, double? nominalCapacityMegawatts)
    {
        Ghi = ghi;
        TotalIrradiance = total;
        AirCelsius = airCelsius;
        PowerMegawatts = powerMegawatts;
        NominalCapacityMegawatts = nominalCapacityMegawatts;
    }

    /// <summary>The <c>Global horizontal irradiance</c> column, W/m² (also the row clock). At stations 1 and 2 it peaks near 400 W/m² even in
    /// spring, far below clear-sky GHI; the column label looks wrong there, so the PV model reads <see cref="TotalIrradiance"/> by default.</summary>
    public ClockSeries Ghi { get; }

    /// <summary>The <c>Total solar irradiance</c> column, W/m²; peaks of 1,100-1,200 W/m² suggest plane-of-array irradiance. Null if absent.</summary>
    public double[]? TotalIrradiance { get; }
    public double[] AirCelsius { get; }

    /// <summary>Measured station output, MW; null when the file has no <c>Power (MW)</c> column.</summary>
    public double[]? PowerMegawatts { get; }

    /// <summary>Station nameplate taken from a <c>_50MW_</c>-style part of the file name, MW; null if the name has none.</summary>
    public double? NominalCapacityMegawatts { get; }

    public static StateGridFile Read(string path)
    {
        using var reader = DataFile.OpenText(path);
        return Parse(reader, path);
    }

    public static StateGridFile Parse(TextReader reader, string name)
    {
        var header = Csv.Split(reader.ReadLine() ?? throw new FormatException($"{Path.GetFileName(name)}: empty file"));
        int iTime = Csv.RequireColumn(header, "Time", name), iGhi = Csv.RequireColumn(header, "Global horizontal irradiance", name),
            iTemp = Csv.RequireColumn(header, "Air temperature", name), iPower = Csv.FindColumn(header, "Power (MW)"),
            iTotal = Csv.FindColumn(header, "Total solar irradiance");
        var starts = new List<DateTime>(70_176);
        List<double> ghi = new(70_176), temp = new(70_176), power = new(70_176), total = new(70_176);
        var lineNumber = 1;
        while (reader.ReadLine() is { } line)
        {
            lineNumber++;
            if (line.Length == 0) continue;
            var c = line.Split(',');
            starts.Add(Csv.ParseClockTime(c[iTime], name, lineNumber));
            ghi.Add(Csv.ParseDouble(c[iGhi], name, lineNumber));
            temp.Add(Csv.ParseDouble(c[iTemp], name, lineNumber));
            if (iPower >= 0) power.Add(Csv.ParseDouble(c[iPower], name, lineNumber));
            if (iTotal >= 0) total.Add(Csv.ParseDouble(c[iTotal], name, lineNumber));
        }
        if (starts.Count < 2) throw new FormatException($"{Path.GetFileName(name)}: needs at least two data rows");
        var capacity = CapacityInName().Match(Path.GetFileName(name));
        return new StateGridFile(new ClockSeries(starts, starts[1] - starts[0], [.. ghi]), iTotal >= 0 ? [.. total] : null, [.. temp], iPower >= 0 ? [.. power] : null,
            capacity.Success ? double.Parse(capacity.Groups[1].Value, CultureInfo.InvariantCulture) : null);
    }

    [GeneratedRegex(@"_(\d+(?:\.\d+)?)MW_", RegexOptions.IgnoreCase)]
    private static partial Regex CapacityInName();
}
