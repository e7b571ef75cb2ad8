namespace Scheduler.Gateway.Tests;

using System.Net;
using Grpc.Core;
using Grpc.Health.V1;
using Scheduler.Api.V1;
using Scheduler.Cluster.Tests.Failover;
using Scheduler.Cluster.Tests.Infrastructure;

/// <summary>
/// The gateway topology on loopback: a private redis-server, two silos of the real host without gRPC
/// (<c>--no-grpc</c>) and two gateways. The gateways start first, so what they say before any silo exists is recorded
/// on the way up. <see cref="Redis"/> is null (tests skip) when redis-server is not installed.
/// </summary>
public sealed class GatewayCluster : IAsyncLifetime
{
    public static readonly TimeSpan StartLimit = TimeSpan.FromSeconds(120);

    public string Root { get; } = Path.Combine(Path.GetTempPath(), "scheduler-gateway-" + Guid.NewGuid().ToString("N")[..8]);
    public RedisServer? Redis { get; private set; }
    public List<SiloProcess> Silos { get; } = [];
    public List<GatewayProcess> Gateways { get; } = [];

    /// <summary>What the first gateway answered while no silo existed yet.</summary>
    public (HttpStatusCode? Live, HttpStatusCode? Ready, HealthCheckResponse.Types.ServingStatus GrpcHealth, StatusCode Call, string Detail) BeforeSilos { get; private set; }

    public async Task InitializeAsync()
    {
        if (RedisServer.Executable is null) return;
        Directory.CreateDirectory(Root);
        Redis = await RedisServer.StartAsync();
        var clusterId = "gateway-" + Guid.NewGuid().ToString("N")[..6];
        for (var i = 0; i < 2; i++) Gateways.Add(new GatewayProcess($"gateway{i}", Root, Redis.ConnectionString, clusterId));
        for (var i = 0; i < 2; i++) Silos.Add(new SiloProcess(i, Root, Redis.ConnectionString, clusterId, ["--no-grpc"]));

        foreach (var gateway in Gateways) gateway.Start();
        await Gateways[0].WaitLiveAsync(StartLimit);
        var live = await Gateways[0].HealthAsync("/healthz");
        var ready = await Gateways[0].HealthAsync("/readyz");
        var grpcHealth = (await new Health.HealthClient(Gateways[0].Channel).CheckAsync(new HealthCheckRequest())).Status;
        var (call, detail) = (StatusCode.OK, "");
        try { await Gateways[0].Jobs.GetJobAsync(new GetJobRequest { Id = "job-none" }); }
        catch (RpcException ex) { (call, detail) = (ex.StatusCode, ex.Status.Detail); }
        BeforeSilos = (live, ready, grpcHealth, call, detail);

        foreach (var silo in Silos) silo.Start();
        await Task.WhenAll(Silos.Select(s => s.WaitHealthyAsync(StartLimit)));
        await Task.WhenAll(Gateways.Select(g => g.WaitReadyAsync(StartLimit)));
        await Gateways[0].WaitForFleetAsync(StartLimit);
    }

    public async Task DisposeAsync()
    {
        foreach (var gateway in Gateways) await gateway.DisposeAsync();
        await Task.WhenAll(Silos.Where(s => s.IsRunning).Select(s => s.StopAsync(TimeSpan.FromSeconds(20))));
        foreach (var silo in Silos) await silo.DisposeAsync();
        if (Redis is not null) await Redis.DisposeAsync();
        try { Directory.Delete(Root, recursive: true); } catch (IOException) { }
    }
}
