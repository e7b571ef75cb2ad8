namespace Scheduler.Gateway.Tests;

using System.Collections.Concurrent;
using System.Net;
using Grpc.Core;
using Scheduler.Api.V1;
using Scheduler.Cluster.Tests.Failover;
using Scheduler.Cluster.Tests.Infrastructure;
using Xunit.Abstractions;

/// <summary>
/// A silo killed (SIGKILL) under a steady load of job creation through one gateway: no acknowledged job is lost, and
/// the same gateway process goes on acknowledging jobs without being restarted or told anything.
/// </summary>
public sealed class GatewayFailoverTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const string Tenant = "gateway-failover";
    private const int JobsBeforeKill = 10, JobsAfterKill = 10;
    /// <summary>A guard against a hung test, not a measured limit: the load stops at once when enough jobs are acknowledged.</summary>
    private static readonly TimeSpan LoadLimit = TimeSpan.FromMinutes(3);

    private readonly string _root = Path.Combine(Path.GetTempPath(), "scheduler-gateway-failover-" + Guid.NewGuid().ToString("N")[..8]);
    private readonly List<SiloProcess> _silos = [];
    private GatewayProcess? _gateway;
    private RedisServer? _redis;

    /// <summary>Acknowledged creates: request id to job id.</summary>
    private readonly ConcurrentDictionary<string, string> _acknowledged = new();
    private readonly ConcurrentBag<StatusCode> _failures = [];

    [SkippableFact]
    [Trait("Category", "Cluster")]
    public async Task Gateway_LosesNoAcknowledgedJobAndRecoversByItself_WhenASiloIsKilledMidRun()
    {
        Skip.If(RedisServer.Executable is null, RedisServer.SkipReason);
        Directory.CreateDirectory(_root);
        _redis = await RedisServer.StartAsync();
        var clusterId = "gw-failover-" + Guid.NewGuid().ToString("N")[..6];
        for (var i = 0; i < 2; i++) _silos.Add(new SiloProcess(i, _root, _redis.ConnectionString, clusterId, ["--no-grpc"]));
        _gateway = new GatewayProcess("gateway", _root, _redis.ConnectionString, clusterId);
        foreach (var silo in _silos) silo.Start();
        await Task.WhenAll(_silos.Select(s => s.WaitHealthyAsync(GatewayCluster.StartLimit)));
        _gateway.Start();
        await _gateway.WaitReadyAsync(GatewayCluster.StartLimit);
        await _gateway.WaitForFleetAsync(GatewayCluster.StartLimit);

        using var limit = new CancellationTokenSource(LoadLimit);
        var next = 0;
        await CreateUntilAsync(JobsBeforeKill, () => next++, limit.Token);
        var victim = _silos[0];
        victim.Kill();
        var beforeKill = _acknowledged.Count;
        output.WriteLine($"killed silo {victim.Index} with SIGKILL after {beforeKill} acknowledged jobs");
        await CreateUntilAsync(beforeKill + JobsAfterKill, () => next++, limit.Token);

        // Every acknowledged job is there, once, through the same gateway.
        var lost = new List<string>();
        foreach (var (requestId, jobId) in _acknowledged)
        {
            try
            {
                var job = await _gateway.Jobs.GetJobAsync(new GetJobRequest { Id = jobId });
                if (job.Id != jobId) lost.Add(requestId);
            }
            catch (RpcException ex) when (ex.StatusCode == StatusCode.NotFound) { lost.Add(requestId); }
        }
        var listed = await _gateway.Jobs.ListJobsAsync(new ListJobsRequest { Tenant = Tenant, PageSize = 1000 });
        var listedIds = listed.Jobs.Select(j => j.Id).ToHashSet();
        var unlisted = _acknowledged.Values.Where(id => !listedIds.Contains(id)).ToList();
        output.WriteLine($"gateway failover: {_acknowledged.Count} jobs acknowledged ({beforeKill} before the kill), lost {lost.Count}, " +
                         $"not listed {unlisted.Count}, {listed.TotalSize} listed (unacknowledged creates may exist), " +
                         $"failed attempts by status: {string.Join(", ", _failures.GroupBy(f => f).Select(g => $"{g.Key} {g.Count()}"))}");

        Assert.Empty(lost);
        Assert.Empty(unlisted);
        Assert.True(_acknowledged.Count >= beforeKill + JobsAfterKill);
        // A failed attempt during the failover says "retry" (or ran out of its deadline), never an unexplained error.
        Assert.All(_failures, f => Assert.Contains(f, new[] { StatusCode.Unavailable, StatusCode.DeadlineExceeded }));
        Assert.Equal(HttpStatusCode.OK, await _gateway.HealthAsync("/readyz"));
        Assert.True(_gateway.IsRunning);
    }

    /// <summary>
    /// Creates jobs one after another until <paramref name="count"/> are acknowledged; a failed call is retried with the
    /// same request id, as a client would, so creation must stay idempotent across the failover.
    /// </summary>
    private async Task CreateUntilAsync(int count, Func<int> nextIndex, CancellationToken limit)
    {
        while (_acknowledged.Count < count)
        {
            var request = new CreateJobRequest
            {
                RequestId = $"gwfo-{nextIndex()}",
                Job = new JobSpec { Tenant = Tenant, Gpus = 8, WorkGpuHours = 10_000, CheckpointGb = 10 },
            };
            while (true)
            {
                limit.ThrowIfCancellationRequested();
                try
                {
                    var job = await _gateway!.Jobs.CreateJobAsync(request, deadline: DateTime.UtcNow.AddSeconds(10), cancellationToken: limit);
                    _acknowledged[request.RequestId] = job.Id;
                    break;
                }
                catch (RpcException ex) when (!limit.IsCancellationRequested)
                {
                    _failures.Add(ex.StatusCode);
                    await Task.Delay(200, limit);
                }
            }
        }
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        if (_gateway is not null) await _gateway.DisposeAsync();
        await Task.WhenAll(_silos.Where(s => s.IsRunning).Select(s => s.StopAsync(TimeSpan.FromSeconds(20))));
        foreach (var silo in _silos) await silo.DisposeAsync();
        if (_redis is not null) await _redis.DisposeAsync();
        try { Directory.Delete(_root, recursive: true); } catch (IOException) { }
    }
}
