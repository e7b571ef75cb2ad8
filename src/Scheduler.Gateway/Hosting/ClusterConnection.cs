namespace Scheduler.Gateway.Hosting;

using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using Scheduler.Grains;

/// <summary>
/// Whether the gateway can reach the silos right now. Connected once the Orleans client's start completed (it retries
/// until a silo answers); lost when the client reports its last silo connection closed; connected again when the
/// client reports a silo connection, or when a probe (a call to the silos' ping grain every
/// <see cref="SchedulerGatewayOptions.ConnectRetryDelay"/>) is answered. Readiness (<c>/readyz</c>, gRPC health) and
/// the call gate read it, so load balancers and callers see a disconnected gateway as not ready, not as failing calls.
/// </summary>
/// <remarks>
/// Why probe: the Orleans client opens silo connections only to send something, so while the gate refuses every call
/// nothing would be sent and the client would not notice a silo that came back until its own background traffic (about
/// a minute). A probe is that traffic, sent on purpose; it also finds a silo that joined while the others left.
/// </remarks>
internal sealed partial class ClusterConnection(IServiceProvider services, IOptions<SchedulerGatewayOptions> options, ILogger<ClusterConnection> logger)
    : IClusterConnectionStatusObserver, IClientConnectionRetryFilter, IHostedLifecycleService, IHealthCheck, IDisposable
{
    /// <summary>How long a probe waits for a silo's answer; a connection that hangs counts as no silo.</summary>
    private static readonly TimeSpan ProbeTimeout = TimeSpan.FromSeconds(5);

    private readonly CancellationTokenSource _stopping = new();
    private volatile bool _started;
    private volatile bool _connected;
    private int _failedAttempts;
    private int _probing;

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
        if (_started && Interlocked.Exchange(ref _probing, 1) == 0) _ = ProbeUntilConnectedAsync();
    }

    public void NotifyGatewayCountChanged(int currentNumberOfGateways, int previousNumberOfGateways, bool connectionRecovered)
    {
        if (currentNumberOfGateways > 0) _connected = true;
        LogGatewayCount(previousNumberOfGateways, currentNumberOfGateways, connectionRecovered);
    }

    private async Task ProbeUntilConnectedAsync()
    {
        try
        {
            var grains = services.GetRequiredService<IGrainFactory>();
            while (!_connected && !_stopping.IsCancellationRequested)
            {
                try
                {
                    await grains.GetGrain<IPingGrain>(0).PingAsync().AsTask().WaitAsync(ProbeTimeout, _stopping.Token);
                    _connected = true;
                    LogProbeAnswered();
                }
                catch (Exception ex) when (ex is not OperationCanceledException || !_stopping.IsCancellationRequested)
                {
                    await Task.Delay(options.Value.ConnectRetryDelay, _stopping.Token);
                }
            }
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested) { }
        finally
        {
            Volatile.Write(ref _probing, 0);
        }
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
        _stopping.Cancel();
        return Task.CompletedTask;
    }
    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public void Dispose() => _stopping.Dispose();

    [LoggerMessage(LogLevel.Warning, "No silo reachable yet (attempt {Attempt}): {Reason}; retrying")]
    private partial void LogStillConnecting(int attempt, string reason);

    [LoggerMessage(LogLevel.Information, "Connected to the scheduler cluster after {FailedAttempts} failed attempts")]
    private partial void LogConnected(int failedAttempts);

    [LoggerMessage(LogLevel.Warning, "Lost the connection to every silo; not ready until one answers again")]
    private partial void LogLost();

    [LoggerMessage(LogLevel.Information, "A silo answered the probe: connected again")]
    private partial void LogProbeAnswered();

    [LoggerMessage(LogLevel.Information, "Connected silos: {Previous} -> {Current} (recovered: {Recovered})")]
    private partial void LogGatewayCount(int previous, int current, bool recovered);
}
