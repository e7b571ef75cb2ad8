namespace Scheduler.Scenarios.Generation;

using System.Globalization;
using Scheduler.Scenarios.Data;

/// <summary>
/// A SAM/NREL <c>.srw</c> wind resource file (WIND Toolkit). Five header lines: site metadata
/// (<c>id, city, state, country, year, lat, lon, elevation, interval hours, rows</c>), source, field names, units, heights; then one
/// row per interval with no timestamps: row <c>i</c> starts at 1 January 00:00 + <c>i</c> intervals, local standard time.
/// A leap-year file with 365 days of rows omits 29 February (NREL's convention), so rows after 28 February move a day on.
/// </summary>
public sealed class SrwFile
{
    private readonly Dictionary<(string Field, double Height), double[]> _columns;

    private SrwFile(string locationId, int year, double latitude, double longitude, ClockSeries clock, Dictionary<(string, double), double[]> columns)
    {
        LocationId = locationId;
        Year = year;
        Latitude = latitude;
        Longitude = longitude;
        Clock = clock;
        _columns = columns;
    }

    public string LocationId { get; }
    public int Year { get; }
    public double Latitude { get; }
    public double Longitude { get; }

    /// <summary>Row times on the file's clock; values are the row indices (use <see cref="Column"/> for data).</summary>
    public ClockSeries Clock { get; }

    public int Rows => Clock.Count;

    /// <summary>Heights (m) at which <paramref name="field"/> (e.g. <c>Speed</c>) is given, ascending.</summary>
    public IReadOnlyList<double> HeightsOf(string field) =>
        [.. _columns.Keys.Where(k => string.Equals(k.Field, field, StringComparison.OrdinalIgnoreCase)).Select(k => k.Height).Order()];

    /// <summary>The column of <paramref name="field"/> at <paramref name="heightMetres"/>; throws if absent.</summary>
    public double[] Column(string field, double heightMetres)
    {
        foreach (var (key, values) in _columns)
            if (string.Equals(key.Field, field, StringComparison.OrdinalIgnoreCase) && key.Height == heightMetres) return values;
        throw new FormatException($"srw file {LocationId}: no {field} column at {heightMetres} m");
    }

    public static SrwFile Read(string path)
    {
        using var reader = DataFile.OpenText(path);
        return Parse(reader, path);
    }

    public static SrwFile Parse(TextReader reader, string name)
    {
        var header = new string[5];
        for (var i = 0; i < 5; i++)
            header[i] = reader.ReadLine() ?? throw new FormatException($"{Path.GetFileName(name)}: srw needs 5 header lines, found {i}");
        var meta = Csv.Split(header[0]);
        if (meta.Length < 5 || !int.TryParse(meta[4], NumberStyles.Integer, CultureInfo.InvariantCulture, out var year))
            throw new FormatException($"{Path.GetFileName(name)}: srw line 1 must give the year in its 5th field");
        var latitude = meta.Length > 5 ? ParseOr(meta[5], double.NaN) : double.NaN;
        var longitude = meta.Length > 6 ? ParseOr(meta[6], double.NaN) : double.NaN;
        var intervalHours = meta.Length > 8 ? ParseOr(meta[8], 1) : 1;
        if (!(intervalHours > 0)) intervalHours = 1;

        var fields = Csv.Split(header[2]).Select(f => f.Trim()).ToArray();
        var heightCells = Csv.Split(header[4]);
        if (heightCells.Length != fields.Length)
            throw new FormatException($"{Path.GetFileName(name)}: srw field names (line 3) and heights (line 5) differ in count");
        var heights = new double[fields.Length];
        for (var c = 0; c < fields.Length; c++) heights[c] = Csv.ParseDouble(heightCells[c], name, 5);

        var data = new List<double>[fields.Length];
        for (var c = 0; c < fields.Length; c++) data[c] = new List<double>(8760);
        var lineNumber = 5;
        while (reader.ReadLine() is { } line)
        {
            lineNumber++;
            if (line.Length == 0) continue;
            var cells = line.Split(',');
            if (cells.Length < fields.Length)
                throw new FormatException($"{Path.GetFileName(name)} line {lineNumber}: {cells.Length} values, expected {fields.Length}");
            for (var c = 0; c < fields.Length; c++) data[c].Add(Csv.ParseDouble(cells[c], name, lineNumber));
        }
        var rows = data.Length == 0 ? 0 : data[0].Count;
        if (rows == 0) throw new FormatException($"{Path.GetFileName(name)}: no data rows");

        var interval = TimeSpan.FromHours(intervalHours);
        var jan1 = new DateTime(year, 1, 1);
        var skipLeapDay = DateTime.IsLeapYear(year) && Math.Abs(rows * intervalHours - 365 * 24) < 1e-6;
        var leapDay = skipLeapDay ? new DateTime(year, 2, 29) : DateTime.MaxValue;
        var starts = new DateTime[rows];
        for (var i = 0; i < rows; i++)
        {
            var t = jan1 + interval * i;
            starts[i] = skipLeapDay && t >= leapDay ? t.AddDays(1) : t;
        }
        var index = new double[rows];
        for (var i = 0; i < rows; i++) index[i] = i;

        var columns = new Dictionary<(string, double), double[]>();
        for (var c = 0; c < fields.Length; c++)
            columns.TryAdd((fields[c], heights[c]), [.. data[c]]);
        return new SrwFile(meta[0].Trim(), year, latitude, longitude, new ClockSeries(starts, interval, index), columns);
    }

    private static double ParseOr(string s, double fallback) =>
        double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) && double.IsFinite(v) ? v : fallback;
}
