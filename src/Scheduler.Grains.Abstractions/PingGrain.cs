namespace Scheduler.Grains;

/// <summary>
/// A grain that does nothing: the load tool's baseline for the cost of one Orleans grain call on this machine (as in
/// Orleans' own ping benchmark), against which the scheduler's grain-bound figures are read. Key: any.
/// </summary>
public interface IPingGrain : IGrainWithIntegerKey
{
    ValueTask PingAsync();
}
