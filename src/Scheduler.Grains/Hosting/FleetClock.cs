namespace Scheduler.Grains.Hosting;


using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

/// <summary>
/// The fleet's heartbeat in live operation: every <see cref="SchedulerOptions.TickInterval"/> of real time it ticks
/// the fleet to the scheduler clock's "now". Replay turns it off and ticks on its virtual clock instead.
/// </summary>
public sealed partial class FleetClock(IGrainFactory grains, SchedulerClock clock, IOptions<SchedulerOptions> options, ILogger<FleetClock> logger)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!options.Value.AutoTick) return;
        using var timer = new PeriodicTimer(options.Value.TickInterval);
        var fleet = grains.GetGrain<IFleetGrain>(IFleetGrain.Key);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
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
