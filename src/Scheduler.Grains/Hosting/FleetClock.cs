namespace Scheduler.Grains.Hosting;


using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

/// <summary>
/// Whether this silo drives the fleet clock right now. With several silos exactly one should: every silo ticking would
/// multiply the dispatcher's work and, where silo clocks differ, hand it ticks out of time order. With no lease
/// registered (the single embedded silo) the silo always ticks.
/// </summary>
public interface IFleetClockLease
{
    bool IsHeld { get; }
}

/// <summary>
/// The fleet's heartbeat in live operation: every <see cref="SchedulerOptions.TickInterval"/> of real time it ticks
/// the fleet to the scheduler clock's "now", on the silo holding the <see cref="IFleetClockLease"/> if there is one.
/// Replay turns it off and ticks on its virtual clock instead.
/// </summary>
public sealed partial class FleetClock(IGrainFactory grains, SchedulerClock clock, IOptions<SchedulerOptions> options, ILogger<FleetClock> logger,
    IFleetClockLease? lease = null)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!options.Value.AutoTick) return;
        using var timer = new PeriodicTimer(options.Value.TickInterval);
        var fleet = grains.Get<IFleetGrain>(IFleetGrain.Key);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                if (lease is { IsHeld: false }) continue;
                try
                {
                    await fleet.TickAsync(clock.GetUtcNow());
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    // One failed tick (a site mid-restart, a timeout) must not stop the heartbeat.
                    LogTickFailed(ex);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Fleet tick failed; retrying on the next tick")]
    private partial void LogTickFailed(Exception ex);
}
