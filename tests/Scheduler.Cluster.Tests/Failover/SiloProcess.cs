namespace Scheduler.Cluster.Tests.Failover;

using Grpc.Core;
using Grpc.Net.Client;
using Scheduler.Api.Client;
using Scheduler.Api.Security;
using Scheduler.Api.V1;
using Scheduler.Cluster.Tests.Infrastructure;

/// <summary>
/// One silo of the real host, as an operator runs it: <c>dotnet Scheduler.Host.dll</c> in Redis cluster mode, on its own
/// loopback ports, its console written to a log file. The ports stay the same across restarts, so clients keep their
/// addresses.
/// </summary>
public sealed class SiloProcess : IAsyncDisposable
{
    private readonly HostProcess _process;

    /// <param name="extraArgs">More host switches, e.g. <c>--no-grpc</c> for a silo behind gateways.</param>
    public SiloProcess(int index, string root, string redis, string clusterId, IEnumerable<string>? extraArgs = null)
    {
        Index = index;
        var ports = Ports.Free(4);
        (GrpcPort, HttpPort) = (ports[0], ports[1]);
        string[] args =
        [
            "--no-demo", "--data-dir", Path.Combine(root, $"silo{index}"),
            "--grpc-port", ports[0].ToString(), "--http-port", ports[1].ToString(),
            "--silo-port", ports[2].ToString(), "--gateway-port", ports[3].ToString(),
            "--Cluster:Mode=Redis", $"--Cluster:RedisConnectionString={redis}",
            // Every silo validates with the same configured key, as a real cluster must; the test mints with it too.
            .. SigningKeyArgs, "--Scheduler:Auth:CredentialFile=",
            $"--Cluster:ClusterId={clusterId}", $"--Cluster:ServiceId={clusterId}",
            "--Logging:LogLevel:Default=Warning", "--Logging:LogLevel:Scheduler.Host.Hosting=Information",
            // The one harmless start-up warning every silo logs (TOOLCHAIN.md), and decision logs, are noise here.
            "--Logging:LogLevel:Orleans.Runtime.Watchdog=Error", "--Logging:LogLevel:Scheduler.Grains=Error",
            .. extraArgs ?? [],
        ];
        _process = new HostProcess("Scheduler.Host.dll", args, Path.Combine(root, $"silo{index}.log"));
        Channel = SchedulerChannel.Create(Address, Credentials.MintOperator("cluster-test"));
    }

    /// <summary>The signing key every silo of this test run is configured with.</summary>
    private static readonly string ClusterKey = SchedulerCredentials.NewKey();

    public static SchedulerCredentials Credentials { get; } = SchedulerCredentials.FromKey(ClusterKey, "cluster-test");

    /// <summary>The switches that configure a process of this test run (silo or gateway) with the cluster's signing key.</summary>
    public static IReadOnlyList<string> SigningKeyArgs { get; } =
        ["--Scheduler:Auth:SigningKeys:0:Id=cluster-test", $"--Scheduler:Auth:SigningKeys:0:Key={ClusterKey}"];

    public int Index { get; }
    public int GrpcPort { get; }
    public int HttpPort { get; }
    public string LogPath => _process.LogPath;
    public string Address => $"http://127.0.0.1:{GrpcPort}";
    public GrpcChannel Channel { get; }
    public bool IsRunning => _process.IsRunning;

    /// <summary>Starts the process; <see cref="WaitReadyAsync"/> waits for its API.</summary>
    public void Start() => _process.Start();

    /// <summary>Waits until the silo serves gRPC and sees the configured fleet (three sites).</summary>
    public async Task WaitReadyAsync(TimeSpan timeout)
    {
        var fleet = new FleetService.FleetServiceClient(Channel);
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (!IsRunning) throw new InvalidOperationException($"silo {Index} exited: {Tail()}");
            try
            {
                var reply = await fleet.ListSitesAsync(new ListSitesRequest(), deadline: DateTime.UtcNow.AddSeconds(5));
                if (reply.Sites.Count == 3) return;
            }
            catch (RpcException) { }
            await Task.Delay(200);
        }
        throw new TimeoutException($"silo {Index} not ready within {timeout}: {Tail()}");
    }

    /// <summary>
    /// Waits until <c>/healthz</c> answers 200, for a silo without gRPC (<c>--no-grpc</c>): the HTTP endpoint starts after
    /// the silo has joined the cluster.
    /// </summary>
    public async Task WaitHealthyAsync(TimeSpan timeout)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (!IsRunning) throw new InvalidOperationException($"silo {Index} exited: {Tail()}");
            try
            {
                if ((await http.GetAsync($"http://127.0.0.1:{HttpPort}/healthz")).IsSuccessStatusCode) return;
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException) { }
            await Task.Delay(200);
        }
        throw new TimeoutException($"silo {Index} not healthy within {timeout}: {Tail()}");
    }

    /// <summary>SIGKILL: the silo dies without leaving the cluster, as on a machine crash.</summary>
    public void Kill() => _process.Kill();

    /// <summary>SIGTERM, as an orchestrator stops a pod: the silo leaves the cluster and stops.</summary>
    public Task StopAsync(TimeSpan timeout) => _process.StopAsync(timeout);

    /// <summary>Whether the silo's log says it took the fleet clock's lease (and has not given it up since).</summary>
    public bool DrivesTheClock()
    {
        var last = _process.ReadLog().LastOrDefault(l => l.Contains("drives the fleet clock", StringComparison.Ordinal));
        return last is not null && last.Contains("now drives", StringComparison.Ordinal);
    }

    public string Tail(int lines = 30) => _process.Tail(lines);

    public ValueTask DisposeAsync()
    {
        _process.Dispose();
        Channel.Dispose();
        return ValueTask.CompletedTask;
    }
}
