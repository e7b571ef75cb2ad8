namespace Scheduler.Scenarios.Data;

/// <summary>
/// Values on a data file's own clock (no time zone): value <c>i</c> holds over [<c>Starts[i]</c>, <c>Starts[i]</c> + <see cref="Interval"/>).
/// Starts are strictly increasing; missing rows are simply absent (a gap).
/// </summary>
public sealed class ClockSeries
{
    private readonly long[] _startTicks;

    public ClockSeries(IReadOnlyList<DateTime> starts, TimeSpan interval, double[] values)
    {
        if (starts.Count != values.Length) throw new ArgumentException("starts and values differ in length");
        if (starts.Count == 0) throw new ArgumentException("a series needs at least one value");
        if (interval <= TimeSpan.Zero) throw new ArgumentException("interval must be positive");
        _startTicks = new long[starts.Count];
        for (var i = 0; i < starts.Count; i++)
        {
            _startTicks[i] = starts[i].Ticks;
            if (i > 0 && _startTicks[i] <= _startTicks[i - 1])
                throw new ArgumentException($"times must increase: {starts[i]:yyyy-MM-dd HH:mm} follows {starts[i - 1]:yyyy-MM-dd HH:mm}");
        }
        Interval = interval;
        Values = values;
    }

    private ClockSeries(long[] startTicks, TimeSpan interval, double[] values)
    {
        _startTicks = startTicks;
        Interval = interval;
        Values = values;
    }

    public TimeSpan Interval { get; }

    public double[] Values { get; }

    public int Count => Values.Length;

    public DateTime First => new(_startTicks[0]);

    /// <summary>End of the last value's interval.</summary>
    public DateTime End => new(_startTicks[^1] + Interval.Ticks);

    public DateTime StartAt(int i) => new(_startTicks[i]);

    /// <summary>The same times with values computed from each index (e.g. wind speed → MW).</summary>
    public ClockSeries With(double[] values)
    {
        if (values.Length != Values.Length) throw new ArgumentException("length differs");
        return new ClockSeries(_startTicks, Interval, values);
    }

    /// <summary>
    /// Time-weighted mean of the values over [<paramref name="from"/>, <paramref name="to"/>), counting only the covered part;
    /// null when no value covers any of it (a gap, or outside the data).
    /// </summary>
    public double? MeanOver(DateTime from, DateTime to)
    {
        long a = from.Ticks, b = to.Ticks, width = Interval.Ticks;
        var i = Array.BinarySearch(_startTicks, a);
        if (i < 0) i = Math.Max(0, ~i - 1);
        double sum = 0;
        long covered = 0;
        for (; i < _startTicks.Length && _startTicks[i] < b; i++)
        {
            var overlap = Math.Min(b, _startTicks[i] + width) - Math.Max(a, _startTicks[i]);
            if (overlap <= 0) continue;
            sum += Values[i] * overlap;
            covered += overlap;
        }
        return covered > 0 ? sum / covered : null;
    }
}
