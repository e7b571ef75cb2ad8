namespace Scheduler.Grains;

/// <summary>
/// The virtual clock of replay mode: it stands still until told to move, and only moves forward (grains refuse
/// telemetry older than what they have seen, so a clock going back would corrupt a replay). It starts at the Unix
/// epoch, before any scenario.
/// </summary>
public sealed class ReplayClock : TimeProvider
{
    private long _ticks = DateTimeOffset.UnixEpoch.UtcTicks;

    public override DateTimeOffset GetUtcNow() => new(Interlocked.Read(ref _ticks), TimeSpan.Zero);

    /// <summary>Moves the clock to <paramref name="time"/>; throws <see cref="ArgumentOutOfRangeException"/> if that is in its past.</summary>
    public void MoveTo(DateTimeOffset time)
    {
        var now = GetUtcNow();
        if (time < now)
            throw new ArgumentOutOfRangeException(nameof(time), time, $"time: the replay clock only moves forward; it is at {now:O}");
        Interlocked.Exchange(ref _ticks, time.UtcTicks);
    }
}
