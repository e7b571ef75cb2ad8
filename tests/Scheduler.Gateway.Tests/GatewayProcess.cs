namespace Scheduler.Gateway.Tests;

using System.Net;
using Grpc.Core;
using Grpc.Net.Client;
using Scheduler.Api.Client;
using Scheduler.Api.V1;
using Scheduler.Cluster.Tests.Failover;
using Scheduler.Cluster.Tests.Infrastructure;

/// <summary>
/// One gateway, as an operator runs it: <c>dotnet Scheduler.Gateway.dll</c> on its own loopback ports, pointed at the
/// test's Redis and configured with the silos' signing key. Its ports stay the same across restarts.
/// </summary>
public sealed class GatewayProcess : IAsyncDisposable
{
    private readonly HostProcess _process;
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(5) };

    public GatewayProcess(string name, string root, string redis, string clusterId)
    {
        var ports = Ports.Free(2);
        (GrpcPort, HttpPort) = (ports[0], ports[1]);
        string[] args =
        [
            "--grpc-port", GrpcPort.ToString(), "--http-port", HttpPort.ToString(), "--redis", redis,
            $"--Cluster:ClusterId={clusterId}", $"--Cluster:ServiceId={clusterId}",
            .. SiloProcess.SigningKeyArgs, "--Scheduler:Auth:CredentialFile=",
            // Find silos that appear within a second, so the tests wait on events, not on Orleans' one-minute default.
            "--Gateway:GatewayListRefreshPeriod=00:00:01", "--Gateway:ConnectRetryDelay=00:00:00.500",
            "--Logging:LogLevel:Default=Warning", "--Logging:LogLevel:Scheduler.Gateway=Information",
        ];
        _process = new HostProcess("Scheduler.Gateway.dll", args, Path.Combine(root, $"{name}.log"));
        Channel = SchedulerChannel.Create(Address, SiloProcess.Credentials.MintOperator("gateway-test"));
        Jobs = new JobService.JobServiceClient(Channel);
    }

    public int GrpcPort { get; }
    public int HttpPort { get; }
    public string Address => $"http://127.0.0.1:{GrpcPort}";
    public GrpcChannel Channel { get; }
    public JobService.JobServiceClient Jobs { get; }
    public bool IsRunning => _process.IsRunning;

    public void Start() => _process.Start();
    public void Kill() => _process.Kill();
    public Task StopAsync(TimeSpan timeout) => _process.StopAsync(timeout);
    public string Tail(int lines = 40) => _process.Tail(lines);

    /// <summary>The status of <c>GET /healthz</c> or <c>/readyz</c>, or null while nothing answers on the port.</summary>
    public async Task<HttpStatusCode?> HealthAsync(string path)
    {
        try { return (await _http.GetAsync($"http://127.0.0.1:{HttpPort}{path}")).StatusCode; }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException) { return null; }
    }

    /// <summary>Waits until the process answers on its health port at all (any status).</summary>
    public Task WaitLiveAsync(TimeSpan timeout) => WaitAsync("/healthz", s => s is not null, timeout);

    /// <summary>Waits until <c>/readyz</c> says 200: the Orleans client reaches a silo.</summary>
    public Task WaitReadyAsync(TimeSpan timeout) => WaitAsync("/readyz", s => s == HttpStatusCode.OK, timeout);

    /// <summary>Waits until <c>/readyz</c> says 503: the gateway knows it reaches no silo.</summary>
    public Task WaitNotReadyAsync(TimeSpan timeout) => WaitAsync("/readyz", s => s == HttpStatusCode.ServiceUnavailable, timeout);

    private async Task WaitAsync(string path, Func<HttpStatusCode?, bool> done, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (!IsRunning) throw new InvalidOperationException($"the gateway exited: {Tail()}");
            if (done(await HealthAsync(path))) return;
            await Task.Delay(100);
        }
        throw new TimeoutException($"gateway {path} not as expected within {timeout}: {Tail()}");
    }

    /// <summary>Waits until the fleet (three sites) is visible through the gateway.</summary>
    public async Task WaitForFleetAsync(TimeSpan timeout)
    {
        var fleet = new FleetService.FleetServiceClient(Channel);
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                if ((await fleet.ListSitesAsync(new ListSitesRequest(), deadline: DateTime.UtcNow.AddSeconds(5))).Sites.Count == 3) return;
            }
            catch (RpcException) { }
            await Task.Delay(200);
        }
        throw new TimeoutException($"the fleet did not appear through the gateway within {timeout}: {Tail()}");
    }

    public ValueTask DisposeAsync()
    {
        _process.Dispose();
        Channel.Dispose();
        _http.Dispose();
        return ValueTask.CompletedTask;
    }
}
