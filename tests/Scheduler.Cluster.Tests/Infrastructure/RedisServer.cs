namespace Scheduler.Cluster.Tests.Infrastructure;

using System.Diagnostics;
using System.Net.Sockets;
using System.Text;

/// <summary>
/// A private redis-server for one test class: a free loopback port, a temporary directory, the append-only file on with
/// an fsync per write (so a killed server loses nothing it acknowledged), no RDB snapshots. It can be killed and started
/// again on the same directory and port, which is how the tests stop "the whole cluster".
/// </summary>
public sealed class RedisServer : IAsyncDisposable
{
    public const string SkipReason = "redis-server is not installed (apt-get install -y redis-server; .ci/run installs it)";
    private Process? _process;

    private RedisServer(string directory, int port)
    {
        Directory = directory;
        Port = port;
    }

    /// <summary>Path of redis-server, or null when it is not installed.</summary>
    public static string? Executable { get; } = Find();

    public string Directory { get; }
    public int Port { get; }
    public string ConnectionString => $"127.0.0.1:{Port}";

    public static async Task<RedisServer> StartAsync()
    {
        var directory = Path.Combine(Path.GetTempPath(), "scheduler-redis-" + Guid.NewGuid().ToString("N")[..8]);
        System.IO.Directory.CreateDirectory(directory);
        var server = new RedisServer(directory, Ports.Free(1)[0]);
        await server.StartAgainAsync();
        return server;
    }

    /// <summary>Starts the server on its directory and port (again, after <see cref="Kill"/>): it replays its AOF.</summary>
    public async Task StartAgainAsync()
    {
        if (Executable is null) throw new InvalidOperationException(SkipReason);
        var start = new ProcessStartInfo(Executable)
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = Directory,
        };
        foreach (var arg in new[] { "--port", Port.ToString(), "--bind", "127.0.0.1", "--dir", Directory, "--appendonly", "yes",
                     "--appendfsync", "always", "--save", "", "--daemonize", "no", "--protected-mode", "yes" })
            start.ArgumentList.Add(arg);
        _process = ChildProcesses.Track(Process.Start(start) ?? throw new InvalidOperationException("redis-server did not start"));
        _process.OutputDataReceived += (_, _) => { };
        _process.ErrorDataReceived += (_, _) => { };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (DateTime.UtcNow < deadline)
        {
            if (await PingAsync()) return;
            if (_process.HasExited) throw new InvalidOperationException($"redis-server exited with {_process.ExitCode}");
            await Task.Delay(50);
        }
        throw new TimeoutException($"redis-server on port {Port} did not answer PING within 15 s");
    }

    /// <summary>SIGKILL: no shutdown save, the AOF is all that survives.</summary>
    public void Kill()
    {
        if (_process is { HasExited: false } p)
        {
            p.Kill();
            p.WaitForExit(10_000);
        }
        _process?.Dispose();
        _process = null;
    }

    private async Task<bool> PingAsync()
    {
        try
        {
            using var client = new TcpClient();
            await client.ConnectAsync("127.0.0.1", Port);
            var stream = client.GetStream();
            await stream.WriteAsync("PING\r\n"u8.ToArray());
            var buffer = new byte[64];
            var read = await stream.ReadAsync(buffer).AsTask().WaitAsync(TimeSpan.FromSeconds(2));
            // "-LOADING" while the AOF is replayed: not ready yet.
            return Encoding.ASCII.GetString(buffer, 0, read).StartsWith("+PONG", StringComparison.Ordinal);
        }
        catch (Exception ex) when (ex is SocketException or IOException or TimeoutException)
        {
            return false;
        }
    }

    public ValueTask DisposeAsync()
    {
        Kill();
        try { System.IO.Directory.Delete(Directory, recursive: true); } catch (IOException) { }
        return ValueTask.CompletedTask;
    }

    private static string? Find()
    {
        var path = Environment.GetEnvironmentVariable("PATH") ?? "";
        return path.Split(Path.PathSeparator).Append("/usr/bin").Append("/usr/sbin").Append("/usr/local/bin")
            .Select(d => Path.Combine(d, "redis-server")).FirstOrDefault(File.Exists);
    }
}

/// <summary>One Redis server shared by the tests of a class; null (tests skip) when redis-server is not installed.</summary>
public sealed class RedisFixture : IAsyncLifetime
{
    public RedisServer? Server { get; private set; }

    public async Task InitializeAsync()
    {
        if (RedisServer.Executable is not null) Server = await RedisServer.StartAsync();
    }

    public async Task DisposeAsync()
    {
        if (Server is not null) await Server.DisposeAsync();
    }
}
