namespace Scheduler.Host.Demo;

using System.Globalization;

/// <summary>
/// The bundled 14-day hourly series (see NOTICE and tools/reduce_demo_data.py): per site, wind and solar capacity
/// factors and outside temperature. Hour 0 is local midnight (UTC+8); the series loops.
/// </summary>
public sealed class DemoWeather
{
    private static readonly DateTimeOffset Anchor = new(2026, 1, 1, 0, 0, 0, TimeSpan.FromHours(8));
    private readonly Dictionary<string, double[]> _columns;
    private readonly int _hours;

    private DemoWeather(Dictionary<string, double[]> columns, int hours)
    {
        _columns = columns;
        _hours = hours;
    }

    public static DemoWeather Load(string path)
    {
        var lines = File.ReadAllLines(path);
        if (lines.Length < 3) throw new InvalidDataException($"{path}: needs a header and at least two rows");
        var header = lines[0].Split(',');
        var rows = lines.Skip(1).Where(l => l.Length > 0).Select(l => l.Split(',')).ToList();
        var columns = new Dictionary<string, double[]>(StringComparer.Ordinal);
        for (var c = 1; c < header.Length; c++)
            columns[header[c]] = rows.Select((r, i) => double.TryParse(r[c], NumberStyles.Float, CultureInfo.InvariantCulture, out var v)
                ? v : throw new InvalidDataException($"{path}: row {i + 2}, column {header[c]}: '{r[c]}' is not a number")).ToArray();
        return new DemoWeather(columns, rows.Count);
    }

    /// <summary>Value of <paramref name="column"/> at <paramref name="at"/>, linearly interpolated between hours.</summary>
    public double At(string column, DateTimeOffset at)
    {
        var values = _columns.TryGetValue(column, out var v) ? v : throw new KeyNotFoundException($"no column '{column}' in the demo weather");
        var hours = (at - Anchor).TotalHours;
        var position = ((hours % _hours) + _hours) % _hours;
        var i = (int)Math.Floor(position);
        var f = position - i;
        return values[i] * (1 - f) + values[(i + 1) % _hours] * f;
    }
}
