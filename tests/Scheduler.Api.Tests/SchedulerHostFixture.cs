namespace Scheduler.Api.Tests;

using System.Net;
using System.Net.Sockets;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Scheduler.Grains;
using Scheduler.Host.Hosting;

/// <summary>
/// The real host (silo + gRPC API + the built-in fleet) on free loopback ports, composed as Program.cs composes it,
/// with two changes: the fleet clock is off (tests tick explicitly) and the scheduler clock is a fake one.
/// </summary>
public sealed class SchedulerHost : IAsyncDisposable
{
    private SchedulerHost(WebApplication app, int grpcPort, int httpPort, FakeTimeProvider time)
    {
        App = app;
        GrpcPort = grpcPort;
        HttpPort = httpPort;
        Time = time;
        Channel = GrpcChannel.ForAddress($"http://127.0.0.1:{grpcPort}");
    }

    public WebApplication App { get; }
    public int GrpcPort { get; }
    public int HttpPort { get; }
    public FakeTimeProvider Time { get; }
    public GrpcChannel Channel { get; }
    public IGrainFactory Grains => App.Services.GetRequiredService<IGrainFactory>();

    public static async Task<SchedulerHost> StartAsync(string dataDir, FakeTimeProvider time, Action<WebApplicationBuilder>? configure = null)
    {
        var ports = FreePorts(4);
        var app = SchedulerApp.Build(
        [
            "--no-demo", "--data-dir", dataDir,
            "--grpc-port", ports[0].ToString(), "--http-port", ports[1].ToString(),
            "--silo-port", ports[2].ToString(), "--gateway-port", ports[3].ToString(),
            "--Scheduler:AutoTick=false", "--Logging:LogLevel:Default=Warning",
        ], builder =>
        {
            builder.Services.AddSingleton(new SchedulerClock(time));
            configure?.Invoke(builder);
        });
        await app.StartAsync();
        return new SchedulerHost(app, ports[0], ports[1], time);
    }

    /// <summary>Advances the scheduler clock, then steps every site and runs a dispatch round.</summary>
    public async Task TickAsync(TimeSpan advance)
    {
        Time.Advance(advance);
        await Grains.GetGrain<IFleetGrain>(IFleetGrain.Key).TickAsync(Time.GetUtcNow());
    }

    public async ValueTask DisposeAsync()
    {
        Channel.Dispose();
        await App.StopAsync();
        await App.DisposeAsync();
    }

    private static int[] FreePorts(int count)
    {
        var listeners = Enumerable.Range(0, count).Select(_ => new TcpListener(IPAddress.Loopback, 0)).ToList();
        listeners.ForEach(l => l.Start());
        var ports = listeners.Select(l => ((IPEndPoint)l.LocalEndpoint).Port).ToArray();
        listeners.ForEach(l => l.Stop());
        return ports;
    }
}

/// <summary>One host shared by the API tests; each test uses its own tenant and request ids.</summary>
public sealed class HostFixture : IAsyncLifetime
{
    public static readonly DateTimeOffset Start = new(2026, 4, 1, 0, 0, 0, TimeSpan.Zero);
    private readonly string _dataDir = Path.Combine(Path.GetTempPath(), "scheduler-api-tests-" + Guid.NewGuid().ToString("N")[..8]);

    public SchedulerHost Host { get; private set; } = null!;

    public async Task InitializeAsync() => Host = await SchedulerHost.StartAsync(_dataDir, new FakeTimeProvider(Start));

    public async Task DisposeAsync()
    {
        await Host.DisposeAsync();
        try { Directory.Delete(_dataDir, recursive: true); } catch (IOException) { }
    }
}

[CollectionDefinition(Name)]
public sealed class HostCollection : ICollectionFixture<HostFixture>
{
    public const string Name = "host";
}
