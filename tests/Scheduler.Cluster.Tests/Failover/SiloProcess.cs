namespace Scheduler.Cluster.Tests.Failover;

using System.Diagnostics;
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
    private readonly string[] _args;
    private Process? _process;

    public SiloProcess(int index, string root, string redis, string clusterId)
    {
        Index = index;
        var ports = Ports.Free(4);
        (GrpcPort, HttpPort) = (ports[0], ports[1]);
        LogPath = Path.Combine(root, $"silo{index}.log");
        _args =
        [
            Path.Combine(AppContext.BaseDirectory, "Scheduler.Host.dll"),
            "--no-demo", "--data-dir", Path.Combine(root, $"silo{index}"),
            "--grpc-port", ports[0].ToString(), "--http-port", ports[1].ToString(),
            "--silo-port", ports[2].ToString(), "--gateway-port", ports[3].ToString(),
            "--Cluster:Mode=Redis", $"--Cluster:RedisConnectionString={redis}",
            // Every silo validates with the same configured key, as a real cluster must; the test mints with it too.
            "--Scheduler:Auth:SigningKeys:0:Id=cluster-test", $"--Scheduler:Auth:SigningKeys:0:Key={ClusterKey}", "--Scheduler:Auth:CredentialFile=",
            $"--Cluster:ClusterId={clusterId}", $"--Cluster:ServiceId={clusterId}",
            "--Logging:LogLevel:Default=Warning", "--Logging:LogLevel:Scheduler.Host.Hosting=Information",
            // The one harmless start-up warning every silo logs (TOOLCHAIN.md), and decision logs, are noise here.
            "--Logging:LogLevel:Orleans.Runtime.Watchdog=Error", "--Logging:LogLevel:Scheduler.Grains=Error",
        ];
        Channel = SchedulerChannel.Create(Address, Credentials.MintOperator("cluster-test"));
    }

    /// <summary>The signing key every silo of this test run is configured with.</summary>
    private static readonly string ClusterKey = SchedulerCredentials.NewKey();

    public static SchedulerCredentials Credentials { get; } = SchedulerCredentials.FromKey(ClusterKey, "cluster-test");

    public int Index { get; }
    public int GrpcPort { get; }
    public int HttpPort { get; }
    public string LogPath { get; }
    public string Address => $"http://127.0.0.1:{GrpcPort}";
    public GrpcChannel Channel { get; }
    public bool IsRunning => _process is { HasExited: false };

    /// <summary>Starts the process; <see cref="WaitReadyAsync"/> waits for its API.</summary>
    public void Start()
    {
        var start = new ProcessStartInfo(DotnetHost.Path)
        {
            UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true,
            WorkingDirectory = AppContext.BaseDirectory,
        };
        foreach (var arg in _args) start.ArgumentList.Add(arg);
        start.Environment["DOTNET_gcServer"] = "0"; // three silos share two cores with the test
        var log = new StreamWriter(LogPath, append: true) { AutoFlush = true };
        _process = ChildProcesses.Track(Process.Start(start) ?? throw new InvalidOperationException("the silo did not start"));
        _process.OutputDataReceived += (_, e) => { if (e.Data is { } line) lock (log) log.WriteLine(line); };
        _process.ErrorDataReceived += (_, e) => { if (e.Data is { } line) lock (log) log.WriteLine(line); };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

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

    /// <summary>SIGKILL: the silo dies without leaving the cluster, as on a machine crash.</summary>
    public void Kill()
    {
        if (IsRunning) _process!.Kill();
        _process?.WaitForExit(10_000);
    }

    /// <summary>SIGTERM, as an orchestrator stops a pod: the silo leaves the cluster and stops.</summary>
    public async Task StopAsync(TimeSpan timeout)
    {
        if (!IsRunning) return;
        using (var kill = Process.Start("kill", ["-TERM", _process!.Id.ToString()])) await kill.WaitForExitAsync();
        using var wait = new CancellationTokenSource(timeout);
        try { await _process.WaitForExitAsync(wait.Token); }
        catch (OperationCanceledException) { Kill(); }
    }

    /// <summary>Whether the silo's log says it took the fleet clock's lease (and has not given it up since).</summary>
    public bool DrivesTheClock()
    {
        var lines = File.Exists(LogPath) ? ReadShared(LogPath) : [];
        var last = lines.LastOrDefault(l => l.Contains("drives the fleet clock", StringComparison.Ordinal));
        return last is not null && last.Contains("now drives", StringComparison.Ordinal);
    }

    public string Tail(int lines = 30) => File.Exists(LogPath) ? string.Join('\n', ReadShared(LogPath).TakeLast(lines)) : "(no log)";

    private static string[] ReadShared(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd().Split('\n');
    }

    public ValueTask DisposeAsync()
    {
        Kill();
        _process?.Dispose();
        Channel.Dispose();
        return ValueTask.CompletedTask;
    }
}
