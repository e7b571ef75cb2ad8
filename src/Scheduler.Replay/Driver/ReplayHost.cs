namespace Scheduler.Replay.Driver;

using Grpc.Net.Client;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Scheduler.Api.Client;
using Scheduler.Api.Security;
using Scheduler.Host.Hosting;

/// <summary>
/// The whole system in this process, started in replay mode (virtual clock, no demo, in-memory state) on free
/// loopback ports: what <c>replay</c> drives when no <c>--address</c> is given. Tracing is off, as nothing would
/// receive the spans.
/// </summary>
public sealed class ReplayHost : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly string _dataDir;

    private ReplayHost(WebApplication app, string dataDir, int grpcPort)
    {
        _app = app;
        _dataDir = dataDir;
        // The driver is an operator: it configures the fleet and moves the clock. Its token comes from the host's own keys.
        var token = app.Services.GetRequiredService<SchedulerCredentials>().MintOperator("replay", TimeSpan.FromDays(7));
        Channel = SchedulerChannel.Create($"http://127.0.0.1:{grpcPort}", token, new GrpcChannelOptions { MaxReceiveMessageSize = 64 * 1024 * 1024 });
    }

    public GrpcChannel Channel { get; }

    public static async Task<ReplayHost> StartAsync(CancellationToken cancellationToken = default)
    {
        var dataDir = Path.Combine(Path.GetTempPath(), "scheduler-replay-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(dataDir);
        var ports = LoopbackPorts.Free(4);
        // The content root is the empty data directory: no appsettings.json applies, only defaults and these.
        var app = SchedulerApp.Build(new WebApplicationOptions
        {
            ContentRootPath = dataDir,
            Args =
            [
                "--replay", "--data-dir", dataDir,
                "--grpc-port", ports[0].ToString(), "--http-port", ports[1].ToString(),
                "--silo-port", ports[2].ToString(), "--gateway-port", ports[3].ToString(),
                "--Logging:LogLevel:Default=Warning", "--Logging:LogLevel:Orleans=Error",
            ],
        }, telemetry: false);
        await app.StartAsync(cancellationToken);
        return new ReplayHost(app, dataDir, ports[0]);
    }

    public async ValueTask DisposeAsync()
    {
        Channel.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
        try { Directory.Delete(_dataDir, recursive: true); } catch (IOException) { }
    }
}
