namespace Scheduler.Scenarios.Tests;

using Scheduler.Scenarios.Data;

public sealed class AlignerTests
{
    private static readonly TimeSpan Hour = TimeSpan.FromHours(1);

    /// <summary>A year of hourly values equal to the hour index, on a local clock.</summary>
    private static ClockSeries HourIndexYear(int year, bool skipLeapDay = false)
    {
        var starts = new List<DateTime>();
        for (var t = new DateTime(year, 1, 1); t < new DateTime(year + 1, 1, 1); t += Hour)
            if (!(skipLeapDay && t.Month == 2 && t.Day == 29)) starts.Add(t);
        return new ClockSeries(starts, Hour, [.. Enumerable.Range(0, starts.Count).Select(i => (double)i)]);
    }

    [Fact]
    public void Resample_AppliesUtcOffset()
    {
        var series = HourIndexYear(2013);
        var start = new DateTimeOffset(2013, 1, 1, 7, 0, 0, TimeSpan.Zero); // 00:00 at UTC-7
        var values = SeriesAligner.Resample(series, new SourceClock(TimeSpan.FromHours(-7)), start, Hour, 3);
        Assert.Equal([0.0, 1.0, 2.0], values);
    }

    [Fact]
    public void Resample_ShiftsWholeYears_AndWrapsAtTheEnd()
    {
        var series = HourIndexYear(2012, skipLeapDay: true); // 8760 rows, like NREL's 2012 files
        var start = new DateTimeOffset(2013, 12, 31, 22, 0, 0, TimeSpan.Zero);
        var values = SeriesAligner.Resample(series, new SourceClock(TimeSpan.Zero), start, Hour, 4);
        Assert.Equal([8758.0, 8759.0, 0.0, 1.0], values); // 2013-12-31 22:00 -> 2012-12-31 22:00; then 2014-01-01 wraps to 2012-01-01
    }

    [Fact]
    public void Resample_FillsAnOmittedLeapDay_FromTheDayBefore()
    {
        var series = HourIndexYear(2012, skipLeapDay: true);
        var start = new DateTimeOffset(2012, 2, 29, 10, 0, 0, TimeSpan.Zero);
        var values = SeriesAligner.Resample(series, new SourceClock(TimeSpan.Zero), start, Hour, 1);
        Assert.Equal((31 + 27) * 24 + 10, values[0]); // 28 February 10:00
    }

    [Fact]
    public void Resample_MapsALeapDayOntoTwentyEighthFebruary_InANonLeapSourceYear()
    {
        var series = HourIndexYear(2013);
        var start = new DateTimeOffset(2012, 2, 29, 10, 0, 0, TimeSpan.Zero);
        var values = SeriesAligner.Resample(series, new SourceClock(TimeSpan.Zero), start, Hour, 1);
        Assert.Equal((31 + 27) * 24 + 10, values[0]);
    }

    [Fact]
    public void Resample_AveragesFinerData_AndHoldsCoarserData()
    {
        var quarters = new ClockSeries([.. Enumerable.Range(0, 8).Select(i => new DateTime(2019, 1, 1).AddMinutes(15 * i))], TimeSpan.FromMinutes(15),
            [0, 1, 2, 3, 4, 5, 6, 7]);
        var start = new DateTimeOffset(2019, 1, 1, 0, 0, 0, TimeSpan.FromHours(8));
        Assert.Equal([1.5, 5.5], SeriesAligner.Resample(quarters, new SourceClock(TimeSpan.FromHours(8)), start, Hour, 2));

        var hourly = HourIndexYear(2019);
        var fine = SeriesAligner.Resample(hourly, new SourceClock(TimeSpan.Zero), new DateTimeOffset(2019, 1, 1, 0, 0, 0, TimeSpan.Zero), TimeSpan.FromMinutes(30), 4);
        Assert.Equal([0.0, 0.0, 1.0, 1.0], fine);
    }

    [Fact]
    public void Resample_Fails_WhenAShortSeriesCannotCoverTheRange()
    {
        var week = new ClockSeries([.. Enumerable.Range(0, 168).Select(i => new DateTime(2019, 1, 1).AddHours(i))], Hour, new double[168]);
        var start = new DateTimeOffset(2019, 1, 1, 0, 0, 0, TimeSpan.Zero);
        var e = Assert.Throws<FormatException>(() => SeriesAligner.Resample(week, new SourceClock(TimeSpan.Zero), start, Hour, 200));
        Assert.Contains("cannot loop", e.Message);
    }

    [Fact]
    public void Resample_Fails_WhenSourceYearIsOutsideTheData()
    {
        var e = Assert.Throws<FormatException>(() =>
            SeriesAligner.Resample(HourIndexYear(2013), new SourceClock(TimeSpan.Zero, 2015), DateTimeOffset.UnixEpoch, Hour, 1));
        Assert.Contains("2015", e.Message);
    }
}
