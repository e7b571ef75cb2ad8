namespace Scheduler.Gateway.Hosting;

using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

/// <summary>
/// Whether the gateway can reach the silos right now, from the Orleans client's own signals: connected once the
/// client's start completed (it retries until a silo answers), lost when its last gateway connection closes, back when a
/// silo is reachable again (the client keeps re-reading membership every <c>GatewayListRefreshPeriod</c>). Readiness
/// (<c>/readyz</c>, gRPC health) and the call gate read it, so load balancers and callers see a disconnected gateway
/// as not ready rather than as failing calls.
/// </summary>
internal sealed partial class ClusterConnection(IOptions<SchedulerGatewayOptions> options, ILogger<ClusterConnection> logger)
    : IClusterConnectionStatusObserver, IClientConnectionRetryFilter, IHostedLifecycleService, IHealthCheck
{
    private volatile bool _started;
    private volatile bool _connected;
    private int _failedAttempts;

    /// <summary>True while at least one silo is reachable through the Orleans client.</summary>
    public bool IsConnected => _started && _connected;

    public async Task<bool> ShouldRetryConnectionAttempt(Exception exception, CancellationToken cancellationToken)
    {
        // Keep trying for as long as the process lives: silos may start after the gateway, or be restarting.
        var attempt = Interlocked.Increment(ref _failedAttempts);
        if (attempt == 1 || attempt % 30 == 0) LogStillConnecting(attempt, exception.Message);
        try { await Task.Delay(options.Value.ConnectRetryDelay, cancellationToken); }
        catch (OperationCanceledException) { return false; }
        return !cancellationToken.IsCancellationRequested;
    }

    /// <summary>Runs after every hosted service started, so after the Orleans client connected.</summary>
    public Task StartedAsync(CancellationToken cancellationToken)
    {
        _connected = true;
        _started = true;
        LogConnected(_failedAttempts);
        return Task.CompletedTask;
    }

    public void NotifyClusterConnectionLost()
    {
        _connected = false;
        LogLost();
    }

    public void NotifyGatewayCountChanged(int currentNumberOfGateways, int previousNumberOfGateways, bool connectionRecovered)
    {
        _connected = currentNumberOfGateways > 0;
        LogGatewayCount(previousNumberOfGateways, currentNumberOfGateways, connectionRecovered);
    }

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(IsConnected
            ? HealthCheckResult.Healthy("connected to the scheduler cluster")
            : HealthCheckResult.Unhealthy(_started ? "lost the connection to every silo; reconnecting" : "connecting to the scheduler cluster"));

    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    public Task StoppingAsync(CancellationToken cancellationToken)
    {
        // Not ready from the first moment of shutdown: load balancers stop sending before the client disconnects.
        _started = false;
        return Task.CompletedTask;
    }
    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(LogLevel.Warning, "No silo reachable yet (attempt {Attempt}): {Reason}; retrying")]
    private partial void LogStillConnecting(int attempt, string reason);

    [LoggerMessage(LogLevel.Information, "Connected to the scheduler cluster after {FailedAttempts} failed attempts")]
    private partial void LogConnected(int failedAttempts);

    [LoggerMessage(LogLevel.Warning, "Lost the connection to every silo; not ready until one is reachable again")]
    private partial void LogLost();

    [LoggerMessage(LogLevel.Information, "Connected silos: {Previous} -> {Current} (recovered: {Recovered})")]
    private partial void LogGatewayCount(int previous, int current, bool recovered);
}
