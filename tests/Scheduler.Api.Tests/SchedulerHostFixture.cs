namespace Scheduler.Api.Tests;

using Google.Protobuf.WellKnownTypes;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Scheduler.Api.Client;
using Scheduler.Api.Security;
using Scheduler.Api.V1;
using GenerationSample = Scheduler.Api.V1.GenerationSample;
using Scheduler.Grains;
using Scheduler.Host.Hosting;

/// <summary>
/// The real host (silo + gRPC API + the built-in fleet) on free loopback ports, composed as Program.cs composes it,
/// with two changes: the fleet clock is off (tests tick explicitly) and the scheduler clock is a fake one.
/// </summary>
public sealed class SchedulerHost : IAsyncDisposable
{
    private string? _ownedDataDir;

    private SchedulerHost(WebApplication app, int grpcPort, int httpPort, FakeTimeProvider time)
    {
        App = app;
        GrpcPort = grpcPort;
        HttpPort = httpPort;
        Time = time;
        Credentials = app.Services.GetRequiredService<SchedulerCredentials>();
        // The tests' default caller is an operator, minted from the host's own (development) key.
        Channel = ChannelWithToken(Credentials.MintOperator("tests"));
    }

    private readonly List<GrpcChannel> _channels = [];

    /// <summary>The host's token minter (its development key).</summary>
    public SchedulerCredentials Credentials { get; }

    /// <summary>A channel calling as <paramref name="caller"/> (disposed with the host).</summary>
    public GrpcChannel ChannelAs(CallerIdentity caller) => ChannelWithToken(Credentials.Mint(caller));

    /// <summary>A channel sending this token, or none (disposed with the host).</summary>
    public GrpcChannel ChannelWithToken(string? token)
    {
        var channel = SchedulerChannel.Create($"http://127.0.0.1:{GrpcPort}", token);
        lock (_channels) _channels.Add(channel);
        return channel;
    }

    public WebApplication App { get; }
    public int GrpcPort { get; }
    public int HttpPort { get; }
    public FakeTimeProvider Time { get; }
    public GrpcChannel Channel { get; }
    public IGrainFactory Grains => App.Services.GetRequiredService<IGrainFactory>();

    /// <summary>A host on a fresh temporary data directory, deleted when the host is disposed.</summary>
    public static async Task<SchedulerHost> StartFreshAsync(Action<WebApplicationBuilder>? configure = null)
    {
        var dataDir = Path.Combine(Path.GetTempPath(), "scheduler-tests-" + Guid.NewGuid().ToString("N")[..8]);
        try
        {
            var host = await StartAsync(dataDir, new FakeTimeProvider(HostFixture.Start), configure);
            host._ownedDataDir = dataDir;
            return host;
        }
        catch
        {
            // A host that refuses to start (the bad-options tests) has already written its development key there.
            DeleteDataDir(dataDir);
            throw;
        }
    }

    private static void DeleteDataDir(string dataDir)
    {
        try { Directory.Delete(dataDir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    public static async Task<SchedulerHost> StartAsync(string dataDir, FakeTimeProvider time, Action<WebApplicationBuilder>? configure = null)
    {
        var ports = LoopbackPorts.Free(4);
        var app = SchedulerApp.Build(
        [
            "--no-demo", "--data-dir", dataDir,
            "--grpc-port", ports[0].ToString(), "--http-port", ports[1].ToString(),
            "--silo-port", ports[2].ToString(), "--gateway-port", ports[3].ToString(),
            "--Scheduler:AutoTick=false", "--Scheduler:PromptDispatch=false", "--Logging:LogLevel:Default=Warning", "--Scheduler:Auth:CredentialFile=",
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

    /// <summary>
    /// Pushes one sample per built-in wind plant, stamped now: <paramref name="windySite"/> gets 200 MW, the others
    /// nothing. Returns how many samples the scheduler accepted.
    /// </summary>
    public async Task<long> PushWindAsync(string windySite)
    {
        using var call = new TelemetryService.TelemetryServiceClient(Channel).PushGeneration();
        foreach (var site in new[] { "horinger", "ulanqab", "baotou" })
            await call.RequestStream.WriteAsync(new GenerationSample
            {
                PlantId = site + "-wind", Megawatts = site == windySite ? 200 : 0, Time = Timestamp.FromDateTimeOffset(Time.GetUtcNow()),
            });
        await call.RequestStream.CompleteAsync();
        return (await call).Accepted;
    }

    public async ValueTask DisposeAsync()
    {
        lock (_channels) _channels.ForEach(c => c.Dispose());
        await App.StopAsync();
        await App.DisposeAsync();
        if (_ownedDataDir is not null) DeleteDataDir(_ownedDataDir);
    }

}

/// <summary>One host shared by the API tests; each test uses its own tenant and request ids.</summary>
public sealed class HostFixture : IAsyncLifetime
{
    public static readonly DateTimeOffset Start = new(2026, 4, 1, 0, 0, 0, TimeSpan.Zero);
    public SchedulerHost Host { get; private set; } = null!;

    public async Task InitializeAsync() => Host = await SchedulerHost.StartFreshAsync();

    public async Task DisposeAsync() => await Host.DisposeAsync();
}

[CollectionDefinition(Name)]
public sealed class HostCollection : ICollectionFixture<HostFixture>
{
    public const string Name = "host";
}
