namespace Scheduler.Scenarios.Data;

/// <summary>
/// How a file's clock maps onto the scenario: the file's timestamps are <see cref="UtcOffset"/> ahead of UTC, and the
/// scenario's first instant lands in <see cref="SourceYear"/> of the file (default: the file's first year).
/// </summary>
/// <param name="UtcOffset">Offset of the file's clock from UTC (e.g. −7 h for NREL files in US Mountain standard time).
/// To transplant a series to another place, give the target site's offset: its diurnal cycle then lines up with local time there.</param>
/// <param name="SourceYear">Year of the file that the scenario's start is mapped into; null means the file's first year.</param>
public sealed record SourceClock(TimeSpan UtcOffset, int? SourceYear = null);

/// <summary>
/// Maps a <see cref="ClockSeries"/> onto scenario steps.
/// <list type="number">
/// <item>Each step start (UTC) is moved to the file's clock (+ offset) and shifted by whole years so the scenario start falls in the source year
/// (<see cref="DateTime.AddYears"/>: 29 February maps to 28 February in a non-leap year).</item>
/// <item>Beyond the data, the calendar wraps by whole years (a one-year file loops; a two-year file loops every two years).</item>
/// <item>The step's value is the time-weighted mean of the values covering it (averaging when the file is finer than the step,
/// holding the value when it is coarser).</item>
/// <item>A step with no data at all (a gap, or a 29 February a file omits) takes the value at the same clock time on the nearest
/// day that has data, up to 7 days away; beyond that the load fails. Same time of day keeps the solar cycle intact.</item>
/// </list>
/// </summary>
public static class SeriesAligner
{
    public const int MaxGapFillDays = 7;

    public static double[] Resample(ClockSeries series, SourceClock clock, DateTimeOffset start, TimeSpan step, int steps)
    {
        var startOnClock = start.UtcDateTime + clock.UtcOffset;
        var sourceYear = clock.SourceYear ?? series.First.Year;
        if (sourceYear < series.First.Year || sourceYear > (series.End - TimeSpan.FromTicks(1)).Year)
            throw new FormatException($"source year {sourceYear} is outside the data ({series.First:yyyy-MM-dd} to {series.End:yyyy-MM-dd})");
        var yearShift = sourceYear - startOnClock.Year;
        var spanYears = (int)Math.Floor((series.End - series.First).TotalDays / 365.0);
        var result = new double[steps];
        for (var k = 0; k < steps; k++)
        {
            var onClock = DateTime.SpecifyKind(startOnClock + step * k, DateTimeKind.Unspecified);
            var from = Wrap(onClock.AddYears(yearShift), series, spanYears);
            result[k] = series.MeanOver(from, from + step) ?? FillGap(series, from, step, spanYears);
        }
        return result;
    }

    private static DateTime Wrap(DateTime t, ClockSeries series, int spanYears)
    {
        if (t >= series.First && t < series.End) return t;
        if (spanYears < 1)
            throw new FormatException($"the data cover {series.First:yyyy-MM-dd HH:mm} to {series.End:yyyy-MM-dd HH:mm} (under a year, so they cannot loop) and do not include {t:yyyy-MM-dd HH:mm}");
        while (t >= series.End) t = t.AddYears(-spanYears);
        // Once below the data, step forward; a calendar span just short of whole years can leave t in neither
        // (e.g. a 365-day file of a leap year): then it is a gap for FillGap, not a reason to loop.
        if (t < series.First) t = t.AddYears(spanYears);
        return t;
    }

    private static double FillGap(ClockSeries series, DateTime from, TimeSpan step, int spanYears)
    {
        for (var d = 1; d <= MaxGapFillDays; d++)
        {
            foreach (var sign in (ReadOnlySpan<int>)[-1, 1])
            {
                var t = from.AddDays(sign * d);
                if (spanYears >= 1) t = Wrap(t, series, spanYears);
                if (series.MeanOver(t, t + step) is { } v) return v;
            }
        }
        throw new FormatException($"no data within {MaxGapFillDays} days of {from:yyyy-MM-dd HH:mm} (file clock)");
    }
}
