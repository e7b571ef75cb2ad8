namespace Scheduler.Grains.Tests;

using CsCheck;

public class StaggeredScheduleTests
{
    private static readonly DateTimeOffset T0 = new(2026, 6, 1, 0, 0, 0, TimeSpan.Zero);

    [Fact]
    public void ADueJob_MovesToItsLatestOwnPoint_NotToNow_ForRandomTimes()
    {
        Gen.Select(Gen.Long[0, TimeSpan.TicksPerDay], Gen.Long[1, 60 * TimeSpan.TicksPerSecond], Gen.Double[1, 100]).Sample((lastTicks, intervalTicks, elapsed) =>
        {
            var last = T0.AddTicks(lastTicks);
            var interval = TimeSpan.FromTicks(intervalTicks);
            var now = last + interval * elapsed;
            Assert.True(StaggeredSchedule.IsDue(last, interval, now));

            var next = StaggeredSchedule.Next(last, interval, now);
            Assert.True(next <= now, $"{next:O} is after now {now:O}");
            Assert.True(now - next < interval, $"{next:O} is a whole interval or more before now {now:O}");
            Assert.Equal(0, (next - last).Ticks % intervalTicks);
        });
    }

    /// <summary>
    /// The dispatcher's use of the schedule, simulated: jobs whose first counts came together, ticks that come a little
    /// late by a random amount. Each tick forwards about the jobs' share of an interval, and keeps doing so: jobs due
    /// between the same two ticks do not become one group that grows.
    /// </summary>
    [Fact]
    public void JobsCountedTogether_StaySpreadOverTheInterval_WhenTicksJitter()
    {
        const int jobs = 1_000, ticks = 600;
        var interval = TimeSpan.FromSeconds(10);
        Gen.Int.Sample(seed =>
        {
            var random = new Random(seed);
            var last = new DateTimeOffset?[jobs];
            var most = 0;
            for (var k = 0; k < ticks; k++)
            {
                var now = T0 + TimeSpan.FromSeconds(k) + TimeSpan.FromMilliseconds(random.Next(0, 60));
                var forwarded = 0;
                for (var j = 0; j < jobs; j++)
                {
                    if (last[j] is not { } at) last[j] = StaggeredSchedule.Start(now, interval, random.NextDouble());
                    else if (StaggeredSchedule.IsDue(at, interval, now)) (last[j], forwarded) = (StaggeredSchedule.Next(at, interval, now), forwarded + 1);
                }
                if (k >= 20) most = Math.Max(most, forwarded);
            }
            // A tick's share is 100; spread at random over ten ticks, the largest share stays well under 160.
            Assert.True(most < 160, $"a tick forwarded {most} of {jobs} counts (seed {seed})");
        }, iter: 20);
    }
}
