namespace Scheduler.Grains;

/// <summary>
/// When a grain's periodic work is next due, once per interval at the grain's own point of it: the first point at a
/// random place in the interval, then whole intervals on. Grains that start together (jobs placed in one round, plants
/// configured in one second) are due at different times and stay so. It schedules the dispatcher's forwards of counts
/// to job records (adr/0007) and the writes that plants and jobs keep behind their state (a plant's latest samples, a
/// job's progress); a site starts its write-behind interval at a random point too, and restarts it at each write.
/// </summary>
/// <remarks>
/// Restarting the interval at the tick that did the work made the jobs due between the same two ticks one group for
/// good, and groups merged whenever tick times jittered: at 10,000 jobs one tick in two forwarded up to 2,700 counts and
/// the others a few. Writes behind that started when their grains did came in bursts: the bench's 1,000 plants,
/// configured in the same second, wrote 2.4 MB within a second or two of every minute, which queued any decision's
/// writes behind it for up to 30 ms (docs/performance.md).
/// </remarks>
internal static class StaggeredSchedule
{
    /// <summary>The point a schedule starts from: <paramref name="random"/> (in [0, 1)) of the interval before now.</summary>
    public static DateTimeOffset Start(DateTimeOffset now, TimeSpan interval, double random) => now - interval * random;

    public static bool IsDue(DateTimeOffset last, TimeSpan interval, DateTimeOffset now) => now - last >= interval;

    /// <summary>The latest own point at or before <paramref name="now"/>, once due: whole intervals after <paramref name="last"/>.</summary>
    public static DateTimeOffset Next(DateTimeOffset last, TimeSpan interval, DateTimeOffset now) =>
        interval > TimeSpan.Zero ? last + interval * Math.Floor((now - last) / interval) : now;
}
