namespace Scheduler.Grains.Diagnostics;

/// <summary>See <see cref="IPingGrain"/>: no state, no work; it exists to be called.</summary>
public sealed class PingGrain : Grain, IPingGrain
{
    public ValueTask PingAsync() => ValueTask.CompletedTask;
}
