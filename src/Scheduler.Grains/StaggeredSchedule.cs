namespace Scheduler.Grains;

/// <summary>
/// When a job's record is due for its site's latest count of the job's work: the first count at once, then once at the
/// job's own point of each <c>ProgressForwardInterval</c>. Jobs placed together start at random points of the interval
/// and keep them, so the dispatcher forwards about the same number of counts every tick.
/// </summary>
/// <remarks>
/// Restarting the interval at the tick that forwarded made the jobs due between the same two ticks one group for good,
/// and groups merged whenever tick times jittered: at 10,000 jobs one tick in two forwarded up to 2,700 counts and the
/// others a few (docs/performance.md).
/// </remarks>
internal static class ForwardSchedule
{
    /// <summary>The point a job's schedule starts from at its first count: <paramref name="random"/> (in [0, 1)) of the interval before now.</summary>
    public static DateTimeOffset Start(DateTimeOffset now, TimeSpan interval, double random) => now - interval * random;

    public static bool IsDue(DateTimeOffset last, TimeSpan interval, DateTimeOffset now) => now - last >= interval;

    /// <summary>The job's latest own point at or before <paramref name="now"/>, once it is due: whole intervals after <paramref name="last"/>.</summary>
    public static DateTimeOffset Next(DateTimeOffset last, TimeSpan interval, DateTimeOffset now) =>
        interval > TimeSpan.Zero ? last + interval * Math.Floor((now - last) / interval) : now;
}
