namespace Scheduler.Grains;

/// <summary>
/// The scheduler's notion of "now": the system clock in live operation, a faster one in the demo, a virtual one in
/// replay and tests. It is deliberately not the DI <see cref="TimeProvider"/>: Orleans runs its own membership,
/// watchdogs and timeouts on that, and must keep real time whatever the scheduler's clock does.
/// </summary>
public sealed class SchedulerClock(TimeProvider time)
{
    public static SchedulerClock System { get; } = new(TimeProvider.System);

    public TimeProvider Time { get; } = time;

    public DateTimeOffset GetUtcNow() => Time.GetUtcNow();
}
