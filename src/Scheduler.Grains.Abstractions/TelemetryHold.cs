namespace Scheduler.Grains;

/// <summary>
/// Decisions before more telemetry, within one process: while a round that a sample triggered (a deficit round, or a
/// round of starts on a supply rise) decides and applies, the telemetry ingest hands no new sample to its plant grain.
/// </summary>
/// <remarks>
/// On 2 cores, a burst of samples (1,000 plants reporting on the same second) is about 20 ms of CPU, and a round's
/// record writes and site calls queued behind it: a round of resumes took 5–10 ms for its records, whatever its size.
/// A sample that comes during a round could only trigger the next round anyway (rounds never overlap). The ingest
/// stamps a sample before it waits, so the wait counts in the decision latency of what that sample triggers. A hold
/// lasts at most <see cref="Limit"/> from its start, so a slow round delays telemetry, never stops it. Only the ingest
/// of the process that runs the round waits: a sample read by another silo is not held.
/// </remarks>
public sealed class TelemetryHold(TimeSpan limit, TimeProvider time)
{
    /// <summary>A hold that never holds (a process without a silo, or the hold turned off).</summary>
    public static TelemetryHold Off { get; } = new(TimeSpan.Zero, TimeProvider.System);

    private readonly Lock _gate = new();
    private int _holders;
    private readonly Dictionary<string, long> _holdsByRegion = new(StringComparer.Ordinal);
    /// <summary>The hold now; null while nobody holds.</summary>
    private Current? _current;

    /// <summary>
    /// The longest a hold lasts from its start (later holders joining it do not extend it); zero: nothing is held.
    /// </summary>
    public TimeSpan Limit { get; } = limit >= TimeSpan.Zero ? limit : throw new ArgumentOutOfRangeException(nameof(limit), limit, "must be >= 0");

    /// <summary>Whether a round holds the telemetry now.</summary>
    public bool IsHeld => Volatile.Read(ref _current) is not null;

    /// <summary>How many rounds have held the telemetry, per region.</summary>
    public IReadOnlyList<KeyValuePair<string, long>> Holds
    {
        get { lock (_gate) return [.. _holdsByRegion]; }
    }

    /// <summary>How many rounds of <paramref name="region"/> have held the telemetry.</summary>
    public long HoldsBy(string region)
    {
        lock (_gate) return _holdsByRegion.GetValueOrDefault(region);
    }

    /// <summary>
    /// Holds the telemetry for a round of <paramref name="region"/> until the returned handle is disposed. Holds
    /// overlap (regions' rounds run side by side): the last to let go releases.
    /// </summary>
    public Handle Hold(string region)
    {
        if (Limit == TimeSpan.Zero) return default;
        lock (_gate)
        {
            if (_holders++ == 0)
                Volatile.Write(ref _current, new Current(new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously), time.GetTimestamp()));
            _holdsByRegion[region] = _holdsByRegion.GetValueOrDefault(region) + 1;
        }
        return new Handle(this);
    }

    /// <summary>
    /// Completes when the hold ends, or <see cref="Limit"/> after it began; at once if nobody holds the telemetry.
    /// </summary>
    public Task WhenReleasedAsync()
    {
        if (Volatile.Read(ref _current) is not { } current) return Task.CompletedTask;
        var left = Limit - time.GetElapsedTime(current.StartedAt);
        return left <= TimeSpan.Zero ? Task.CompletedTask : WaitAsync(current.Released.Task, left);
    }

    private async Task WaitAsync(Task released, TimeSpan left) =>
        await released.WaitAsync(left, time).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);

    private void Release()
    {
        Current? current;
        lock (_gate)
        {
            if (--_holders > 0) return;
            current = _current;
            Volatile.Write(ref _current, null);
        }
        current?.Released.TrySetResult();
    }

    /// <param name="StartedAt">When the hold began (<see cref="TimeProvider.GetTimestamp"/>).</param>
    private sealed record Current(TaskCompletionSource Released, long StartedAt);

    /// <summary>One holder's part of a hold; disposing it twice lets go once.</summary>
    public struct Handle(TelemetryHold? hold) : IDisposable
    {
        private TelemetryHold? _hold = hold;

        public void Dispose()
        {
            _hold?.Release();
            _hold = null;
        }
    }
}
