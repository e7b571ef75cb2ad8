namespace Scheduler.Gateway.Tests;

using System.Collections.Concurrent;
using System.Net;
using Grpc.Core;
using Scheduler.Api.V1;
using Scheduler.Cluster.Tests.Failover;
using Scheduler.Cluster.Tests.Infrastructure;
using Xunit.Abstractions;

/// <summary>
/// Silos failing and coming and going under job creation through one gateway: a silo killed (SIGKILL) loses no
/// acknowledged job; silos that join and leave are followed; with none left the gateway is not ready, and it recovers
/// when one is back. The same gateway process throughout, never restarted or told anything.
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
    private readonly ConcurrentDictionary<string, int> _failureDetails = new();

    [SkippableFact]
    [Trait("Category", "Cluster")]
    public async Task Gateway_LosesNoAcknowledgedJobAndRecoversByItself_WhenASiloIsKilledMidRun()
    {
        Skip.If(RedisServer.Executable is null, RedisServer.SkipReason);
        await StartClusterAsync();
        var gateway = _gateway!;
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
                var job = await gateway.Jobs.GetJobAsync(new GetJobRequest { Id = jobId });
                if (job.Id != jobId) lost.Add(requestId);
            }
            catch (RpcException ex) when (ex.StatusCode == StatusCode.NotFound) { lost.Add(requestId); }
        }
        var listed = await gateway.Jobs.ListJobsAsync(new ListJobsRequest { Tenant = Tenant, PageSize = 1000 });
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
        Assert.Equal(HttpStatusCode.OK, await gateway.HealthAsync("/readyz"));
        Assert.True(gateway.IsRunning);
    }

    [SkippableFact]
    [Trait("Category", "Cluster")]
    public async Task Gateway_FollowsSilosThatComeAndGo_AndIsNotReadyWhileNoneIsReachable()
    {
        Skip.If(RedisServer.Executable is null, RedisServer.SkipReason);
        var clusterId = await StartClusterAsync();
        using var limit = new CancellationTokenSource(LoadLimit);
        var next = 0;
        await CreateUntilAsync(5, () => next++, limit.Token);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        void Phase(string what) => output.WriteLine($"{clock.Elapsed.TotalSeconds,6:0.0} s  {what} (failed attempts so far: {_failures.Count})");

        // A third silo joins, then the first two leave (SIGTERM, as on scale-in): the gateway finds the newcomer in
        // membership and moves to it by itself.
        var third = new SiloProcess(2, _root, _redis!.ConnectionString, clusterId, ["--no-grpc"]);
        _silos.Add(third);
        third.Start();
        await third.WaitHealthyAsync(GatewayCluster.StartLimit);
        Phase("third silo up");
        await Task.WhenAll(_silos[0].StopAsync(TimeSpan.FromSeconds(30)), _silos[1].StopAsync(TimeSpan.FromSeconds(30)));
        Phase("first two silos stopped");
        await CreateUntilAsync(10, () => next++, limit.Token);
        Phase("jobs acknowledged through the third silo");
        await AssertEveryAcknowledgedJobIsThereAsync();
        Phase("every job read");

        // The last silo leaves: the gateway stays up, says it is not ready, and refuses calls at once.
        await third.StopAsync(TimeSpan.FromSeconds(30));
        Phase("last silo stopped");
        await _gateway!.WaitNotReadyAsync(GatewayCluster.StartLimit);
        Phase("gateway not ready");
        var refused = await Assert.ThrowsAsync<RpcException>(() => _gateway.Jobs.GetJobAsync(new GetJobRequest { Id = _acknowledged.Values.First() }).ResponseAsync);
        Assert.Equal(StatusCode.Unavailable, refused.StatusCode);
        Assert.True(_gateway.IsRunning);

        // A silo comes back: the same gateway process is ready again, and every job is there.
        _silos[0].Start();
        await _silos[0].WaitHealthyAsync(GatewayCluster.StartLimit);
        Phase("a silo back");
        await _gateway.WaitReadyAsync(GatewayCluster.StartLimit);
        Phase("gateway ready");
        await CreateUntilAsync(12, () => next++, limit.Token);
        Phase("jobs acknowledged");
        await AssertEveryAcknowledgedJobIsThereAsync();
        Phase("every job read");
        output.WriteLine($"silos came and went: {_acknowledged.Count} jobs acknowledged, failed attempts by status: " +
                         string.Join(", ", _failures.GroupBy(f => f).Select(g => $"{g.Key} {g.Count()}")));
        foreach (var (detail, count) in _failureDetails) output.WriteLine($"  {count} × {detail}");
        Assert.All(_failures, f => Assert.Contains(f, new[] { StatusCode.Unavailable, StatusCode.DeadlineExceeded }));
    }

    /// <summary>Redis, two silos without gRPC, one gateway; returns the cluster id once the fleet is visible through the gateway.</summary>
    private async Task<string> StartClusterAsync()
    {
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
        return clusterId;
    }

    private async Task AssertEveryAcknowledgedJobIsThereAsync()
    {
        foreach (var jobId in _acknowledged.Values)
            Assert.Equal(jobId, (await _gateway!.Jobs.GetJobAsync(new GetJobRequest { Id = jobId }, deadline: DateTime.UtcNow.AddSeconds(30))).Id);
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
                    _failureDetails.AddOrUpdate($"{ex.StatusCode}: {ex.Status.Detail[..Math.Min(120, ex.Status.Detail.Length)]}", 1, (_, n) => n + 1);
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
