namespace Scheduler.LoadTest.Tests;

public class SlicePercentilesTests
{
    private static readonly TimeSpan Minute = TimeSpan.FromMinutes(1);

    [Fact]
    public void EachWholeSlice_GetsThePercentileOfItsOwnValues_AndAPartSliceIsLeftOut()
    {
        // Minute 1: 1..100 ms (p99 = 99); minute 2: one slow round of 30 at 40 ms among 70 at 2 ms; 30 s more: left out.
        var measurements = Enumerable.Range(1, 100).Select(v => (TimeSpan.FromSeconds(v * 0.5), (double)v))
            .Concat(Enumerable.Range(0, 70).Select(i => (Minute + TimeSpan.FromSeconds(i * 0.5), 2.0)))
            .Concat(Enumerable.Range(0, 30).Select(i => (Minute + TimeSpan.FromSeconds(40 + i * 0.01), 40.0)))
            .Concat([(2 * Minute + TimeSpan.FromSeconds(10), 500.0)]);

        var p99 = SlicePercentiles.Of(measurements, window: TimeSpan.FromSeconds(150), Minute, 0.99);

        Assert.Equal([99.0, 40.0], p99);
    }

    [Fact]
    public void ASliceWithNoValues_IsNaN_AndValuesBeforeTheWindowDoNotCount()
    {
        var p99 = SlicePercentiles.Of([(TimeSpan.FromSeconds(-1), 7.0), (TimeSpan.FromSeconds(70), 3.0)], TimeSpan.FromMinutes(2), Minute, 0.99);

        Assert.True(double.IsNaN(p99[0]));
        Assert.Equal(3.0, p99[1]);
    }

    [Fact]
    public void AWindowShorterThanASlice_HasNoSlices()
    {
        Assert.Empty(SlicePercentiles.Of([(TimeSpan.FromSeconds(1), 3.0)], TimeSpan.FromSeconds(2), Minute, 0.99));
    }

    [Fact]
    public void ASliceOfNoLength_IsRefused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => SlicePercentiles.Of([], Minute, TimeSpan.Zero, 0.99));
    }
}
