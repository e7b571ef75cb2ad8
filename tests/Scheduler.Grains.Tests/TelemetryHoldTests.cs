namespace Scheduler.Grains.Tests;

using CsCheck;
using Microsoft.Extensions.Time.Testing;

public class TelemetryHoldTests
{
    private static readonly TimeSpan Limit = TimeSpan.FromMilliseconds(50);

    /// <summary>
    /// Random overlapping holds, each let go once or twice: the telemetry is held exactly while some holder has not let
    /// go, a wait begun during a hold ends when the last holder lets go and not before, and each round's hold is counted
    /// for its region.
    /// </summary>
    [Fact]
    public void TelemetryIsHeld_ExactlyWhileAHolderHasNotLetGo()
    {
        // Each step: take a new hold (-1), or let go of the i-th one taken (possibly again).
        Gen.Int[-1, 7].Array[1, 60].Sample(steps =>
        {
            var hold = new TelemetryHold(Limit, new FakeTimeProvider());
            var handles = new List<TelemetryHold.Handle>();
            var open = new List<bool>();
            var waits = new List<Task>();
            var began = new long[2];
            foreach (var step in steps)
            {
                if (step < 0 || step >= handles.Count)
                {
                    var region = handles.Count % 2;
                    began[region]++;
                    handles.Add(hold.Hold($"r{region}"));
                    open.Add(true);
                }
                else
                {
                    var handle = handles[step];
                    handle.Dispose();
                    handles[step] = handle;
                    open[step] = false;
                }
                var held = open.Contains(true);
                Assert.Equal(held, hold.IsHeld);
                Assert.Equal((began[0], began[1]), (hold.HoldsBy("r0"), hold.HoldsBy("r1")));
                // A released wait completes on the thread pool (continuations run asynchronously), not on this thread.
                if (!held) Assert.All(waits, w => Assert.True(w.Wait(TimeSpan.FromSeconds(5))));
                else
                {
                    Assert.All(waits, w => Assert.False(w.IsCompleted));
                    waits.Add(hold.WhenReleasedAsync());
                }
                if (!held) waits.Clear();
                Assert.Equal(!held, hold.WhenReleasedAsync().IsCompleted);
            }
        });
    }

    [Fact]
    public async Task AWait_EndsAtTheLimitFromTheHoldsStart_WhenTheRoundIsSlow()
    {
        var time = new FakeTimeProvider();
        var hold = new TelemetryHold(Limit, time);
        using var slow = hold.Hold("r");
        time.Advance(TimeSpan.FromMilliseconds(30));
        var wait = hold.WhenReleasedAsync();
        time.Advance(TimeSpan.FromMilliseconds(19));
        Assert.False(wait.IsCompleted);
        time.Advance(TimeSpan.FromMilliseconds(1));
        await wait.WaitAsync(TimeSpan.FromSeconds(5));
        // Past the limit a sample no longer waits, though the round still holds.
        Assert.True(hold.IsHeld);
        Assert.True(hold.WhenReleasedAsync().IsCompleted);
    }

    [Fact]
    public void AZeroLimit_NeverHolds()
    {
        var hold = new TelemetryHold(TimeSpan.Zero, new FakeTimeProvider());
        using var round = hold.Hold("r");
        Assert.False(hold.IsHeld);
        Assert.Equal(0, hold.HoldsBy("r"));
        Assert.True(hold.WhenReleasedAsync().IsCompleted);
    }

    [Fact]
    public void ANegativeLimit_IsRefused() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new TelemetryHold(TimeSpan.FromMilliseconds(-1), TimeProvider.System));
}
