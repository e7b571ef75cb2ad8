namespace Scheduler.Cluster.Tests.Failover;

using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans;
using Orleans.Hosting;
using Orleans.Serialization;
using Scheduler.Api.V1;
using Scheduler.Cluster.Tests.Infrastructure;
using Scheduler.Grains;
using GenerationSample = Scheduler.Api.V1.GenerationSample;
using SiteStatus = Scheduler.Api.V1.SiteStatus;
using Xunit.Abstractions;

/// <summary>
/// Three silo processes of the real host on one Redis, under a steady load of telemetry and job creation through gRPC;
/// the silo driving the fleet clock is killed with SIGKILL mid-run. Then the whole cluster (silos and Redis) is stopped
/// and started again. The numbers go to the test output and to docs/operations.md.
/// </summary>
public sealed class ClusterFailoverTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const string Tenant = "failover";
    private static readonly TimeSpan RecoveryLimit = TimeSpan.FromSeconds(20);
    private static readonly string[] SiteIds = ["horinger", "ulanqab", "baotou"];

    private readonly string _root = Path.Combine(Path.GetTempPath(), "scheduler-failover-" + Guid.NewGuid().ToString("N")[..8]);
    private readonly List<SiloProcess> _silos = [];
    private RedisServer? _redis;

    /// <summary>Acknowledged creates: request id to job id, and when the acknowledgement arrived.</summary>
    private readonly ConcurrentDictionary<string, (string JobId, DateTimeOffset At)> _acknowledged = new();
    private readonly ConcurrentDictionary<string, CreateJobRequest> _requests = new();
    private readonly ConcurrentBag<string> _violations = [];
    private int _createRetries, _fleetSamples, _telemetryBatches;
    private double _maxExportMegawatts;

    [SkippableFact]
    [Trait("Category", "Cluster")]
    public async Task Cluster_KeepsEveryJobOnce_WhenASiloIsKilledAndTheClusterRestarts()
    {
        Skip.If(RedisServer.Executable is null, RedisServer.SkipReason);
        var total = Stopwatch.StartNew();
        Directory.CreateDirectory(_root);
        _redis = await RedisServer.StartAsync();
        var clusterId = "failover-" + Guid.NewGuid().ToString("N")[..6];
        for (var i = 0; i < 3; i++) _silos.Add(new SiloProcess(i, _root, _redis.ConnectionString, clusterId));

        foreach (var silo in _silos) silo.Start();
        await Task.WhenAll(_silos.Select(s => s.WaitReadyAsync(TimeSpan.FromSeconds(90))));
        output.WriteLine($"cluster of 3 silos up after {total.Elapsed.TotalSeconds:0.0} s");

        using var stopLoad = new CancellationTokenSource();
        var load = Task.WhenAll(CreateJobsAsync(stopLoad.Token), PushTelemetryAsync(stopLoad.Token), ObserveFleetAsync(stopLoad.Token));

        await Task.Delay(TimeSpan.FromSeconds(10));
        var victim = _silos.FirstOrDefault(s => s.DrivesTheClock()) ?? _silos[0];
        // The last job goes through the victim itself, which dies the moment it acknowledges: stored before acknowledged.
        var lastWords = Request(-1);
        var lastJob = await new JobService.JobServiceClient(victim.Channel).CreateJobAsync(lastWords);
        var killedAt = DateTimeOffset.UtcNow;
        victim.Kill();
        _requests[lastWords.RequestId] = lastWords;
        _acknowledged[lastWords.RequestId] = (lastJob.Id, killedAt);
        var beforeKill = _acknowledged.Count;
        output.WriteLine($"killed silo {victim.Index} (the fleet clock's driver) with SIGKILL after {beforeKill} acknowledged jobs");

        var recovery = await WaitForFirstDecisionAfterAsync(killedAt, RecoveryLimit + TimeSpan.FromSeconds(15));
        await Task.Delay(TimeSpan.FromSeconds(5)); // load goes on after the recovery
        await stopLoad.CancelAsync();
        await load;

        // Let one more tick reconcile sites with job records, then check every acknowledged job.
        await Task.Delay(TimeSpan.FromSeconds(2));
        var survivor = _silos.First(s => s.IsRunning);
        var (lost, doubled) = await CheckJobsAsync(survivor);
        var resent = await ResendCreatesAsync(survivor);
        var refused = await CheckStaleEpochsAsync(clusterId);
        var before = await SnapshotAsync(survivor);

        // Stop the whole cluster: the two silos as an orchestrator would, Redis by SIGKILL (only its AOF survives).
        await Task.WhenAll(_silos.Where(s => s.IsRunning).Select(s => s.StopAsync(TimeSpan.FromSeconds(30))));
        _redis.Kill();
        await _redis.StartAgainAsync();
        foreach (var silo in _silos) silo.Start();
        await Task.WhenAll(_silos.Select(s => s.WaitReadyAsync(TimeSpan.FromSeconds(60))));
        var after = await SnapshotAsync(_silos[1]);
        var restartViolations = CompareRestart(before, after);

        var report = string.Create(CultureInfo.InvariantCulture,
            $"failover: jobs acknowledged = {_acknowledged.Count} ({beforeKill} before the kill), lost = {lost}, doubled = {doubled}, " +
            $"recovery = {(recovery is { } r ? r.TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture) : "none")} s, " +
            $"create retries = {_createRetries}, resent creates = {resent} (same job each), stale site commands refused = {refused}, max export = {_maxExportMegawatts} MW over {_fleetSamples} fleet samples, " +
            $"telemetry batches = {_telemetryBatches}; restart: {after.Jobs.Count} jobs and {after.Sites.Count} sites back, " +
            $"{restartViolations.Count} differences; total {total.Elapsed.TotalSeconds:0} s");
        output.WriteLine(report);
        foreach (var v in _violations.Concat(restartViolations).Take(20)) output.WriteLine("  " + v);

        Assert.True(_acknowledged.Count >= 20, $"too little load: {_acknowledged.Count} jobs");
        Assert.True(_acknowledged.Count > beforeKill, "no job was acknowledged after the kill");
        Assert.Equal(0, lost);
        Assert.Equal(0, doubled);
        Assert.NotNull(recovery);
        Assert.True(recovery <= RecoveryLimit, $"decisions resumed after {recovery}, limit {RecoveryLimit}");
        Assert.Equal(0, _maxExportMegawatts);
        Assert.True(refused > 0, "no running job to send a stale command for");
        Assert.Empty(_violations);
        Assert.Empty(restartViolations);
        // A create can be stored while its reply is lost (its silo died, or the load stopped between retries): that job
        // exists unacknowledged. Every acknowledged one must be there (lost = 0 above); nothing beyond what was sent.
        Assert.InRange(after.Jobs.Count, _acknowledged.Count, _requests.Count);
    }

    /// <summary>
    /// Creates jobs at a steady pace, round robin over the silos. A failed call is retried with the same request id on
    /// the next silo until acknowledged, as a client would: creation must stay idempotent across failover.
    /// </summary>
    private async Task CreateJobsAsync(CancellationToken stop)
    {
        for (var i = 0; !stop.IsCancellationRequested; i++)
        {
            var request = Request(i);
            _requests[request.RequestId] = request;
            for (var attempt = 0; attempt < 20 && !stop.IsCancellationRequested; attempt++)
            {
                var silo = _silos[(i + attempt) % _silos.Count];
                if (!silo.IsRunning) continue;
                try
                {
                    var job = await new JobService.JobServiceClient(silo.Channel).CreateJobAsync(request, deadline: DateTime.UtcNow.AddSeconds(8));
                    if (_acknowledged.TryGetValue(request.RequestId, out var earlier) && earlier.JobId != job.Id)
                        _violations.Add($"request {request.RequestId} acknowledged as two jobs: {earlier.JobId} and {job.Id}");
                    _acknowledged[request.RequestId] = (job.Id, DateTimeOffset.UtcNow);
                    break;
                }
                catch (RpcException)
                {
                    Interlocked.Increment(ref _createRetries);
                }
            }
            try { await Task.Delay(150, stop); } catch (OperationCanceledException) { }
        }
    }

    private static CreateJobRequest Request(int i) => new()
    {
        RequestId = $"fo-{i}",
        Job = new JobSpec { Tenant = Tenant, Gpus = 8, WorkGpuHours = 10_000, Interruptible = i % 3 == 0, Relocatable = i % 2 == 0, CheckpointGb = 10 },
    };

    /// <summary>A client that never saw its acknowledgement retries: the same request on another silo gives the same job.</summary>
    private async Task<int> ResendCreatesAsync(SiloProcess silo)
    {
        var jobs = new JobService.JobServiceClient(silo.Channel);
        var resent = 0;
        foreach (var (requestId, (jobId, _)) in _acknowledged.OrderBy(a => a.Key, StringComparer.Ordinal).Where((_, i) => i % 5 == 0).ToList())
        {
            var again = await jobs.CreateJobAsync(_requests[requestId]);
            if (again.Id != jobId) _violations.Add($"request {requestId} resent: job {again.Id}, first {jobId}");
            resent++;
        }
        return resent;
    }

    /// <summary>
    /// For jobs running since before the kill, a site reactivated after the failover still refuses a command from the
    /// job's previous epoch (start or stop), and keeps the job: its epochs came back from storage with it.
    /// </summary>
    private async Task<int> CheckStaleEpochsAsync(string clusterId)
    {
        var builder = Microsoft.Extensions.Hosting.Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.UseOrleansClient(client =>
        {
            client.UseRedisClustering(_redis!.ConnectionString);
            client.Configure<Orleans.Configuration.ClusterOptions>(o => { o.ClusterId = clusterId; o.ServiceId = clusterId; });
            client.Services.AddSerializer(s => s.AddSchedulerSerializers());
        });
        using var host = builder.Build();
        await host.StartAsync();
        try
        {
            var grains = host.Services.GetRequiredService<IGrainFactory>();
            var refused = 0;
            foreach (var (jobId, at) in _acknowledged.Values.OrderBy(a => a.At).Take(10))
            {
                var record = await grains.GetGrain<IJobGrain>(jobId).GetAsync();
                if (record?.State is not { Status: Scheduler.Core.Lifecycle.JobStatus.Running, SiteId: { } siteId, Epoch: >= 1 } job) continue;
                var site = grains.GetGrain<ISiteGrain>(siteId);
                try
                {
                    await site.StartJobAsync(new JobAssignment(job with { Epoch = job.Epoch - 1 }, null));
                    _violations.Add($"site {siteId} accepted a start of job {jobId} at stale epoch {job.Epoch - 1}");
                }
                catch (StaleEpochException) { }
                if (await site.StopJobAsync(jobId, job.Epoch - 1)) _violations.Add($"site {siteId} accepted a stop of job {jobId} at stale epoch {job.Epoch - 1}");
                if ((await site.GetAsync())?.Jobs.Any(a => a.Job.Id == jobId) != true) _violations.Add($"site {siteId} let job {jobId} go on a stale command");
                refused++;
            }
            return refused;
        }
        finally
        {
            await host.StopAsync();
        }
    }

    /// <summary>Wind at two sites, none at the third, every half second, through whichever silo is up.</summary>
    private async Task PushTelemetryAsync(CancellationToken stop)
    {
        for (var i = 0; !stop.IsCancellationRequested; i++)
        {
            var silo = _silos[i % _silos.Count];
            if (silo.IsRunning)
            {
                try
                {
                    using var call = new TelemetryService.TelemetryServiceClient(silo.Channel).PushGeneration(deadline: DateTime.UtcNow.AddSeconds(5));
                    var now = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow);
                    foreach (var (plant, mw) in new[] { ("horinger-wind", 250.0), ("ulanqab-wind", 180.0), ("baotou-wind", 0.0) })
                        await call.RequestStream.WriteAsync(new GenerationSample { PlantId = plant, Megawatts = mw, Time = now });
                    await call.RequestStream.CompleteAsync();
                    await call;
                    Interlocked.Increment(ref _telemetryBatches);
                }
                catch (RpcException) { }
            }
            try { await Task.Delay(500, stop); } catch (OperationCanceledException) { }
        }
    }

    /// <summary>
    /// Samples the fleet twice a second: export must be 0 at every site, and no job may be held by two sites. A job seen
    /// at two sites in one sample is read again site by site, since a sample is not atomic across sites.
    /// </summary>
    private async Task ObserveFleetAsync(CancellationToken stop)
    {
        for (var i = 0; !stop.IsCancellationRequested; i++)
        {
            var silo = _silos[i % _silos.Count];
            if (silo.IsRunning)
            {
                try
                {
                    var fleetClient = new FleetService.FleetServiceClient(silo.Channel);
                    var fleet = await fleetClient.GetFleetAsync(new GetFleetRequest(), deadline: DateTime.UtcNow.AddSeconds(5));
                    Interlocked.Increment(ref _fleetSamples);
                    foreach (var site in fleet.Sites) _maxExportMegawatts = Math.Max(_maxExportMegawatts, Math.Abs(site.ExportMw));
                    foreach (var jobId in fleet.Sites.SelectMany(s => s.Jobs.Select(j => j.JobId)).GroupBy(j => j).Where(g => g.Count() > 1).Select(g => g.Key))
                    {
                        var holders = new List<string>();
                        foreach (var siteId in SiteIds)
                        {
                            var site = await fleetClient.GetSiteAsync(new GetSiteRequest { Id = siteId }, deadline: DateTime.UtcNow.AddSeconds(5));
                            if (site.Jobs.Any(j => j.JobId == jobId)) holders.Add(siteId);
                        }
                        if (holders.Count > 1) _violations.Add($"job {jobId} held by {string.Join(" and ", holders)} at once");
                    }
                }
                catch (RpcException) { }
            }
            try { await Task.Delay(500, stop); } catch (OperationCanceledException) { }
        }
    }

    /// <summary>Time from the kill to the first placement decision taken after it (the event carries the tick's time).</summary>
    private async Task<TimeSpan?> WaitForFirstDecisionAfterAsync(DateTimeOffset killedAt, TimeSpan timeout)
    {
        var deadline = DateTimeOffset.UtcNow + timeout;
        while (DateTimeOffset.UtcNow < deadline)
        {
            await Task.Delay(250);
            foreach (var (jobId, _) in _acknowledged.Values.Where(a => a.At > killedAt).ToList())
            {
                var silo = _silos.FirstOrDefault(s => s.IsRunning);
                if (silo is null) return null;
                try
                {
                    var job = await new JobService.JobServiceClient(silo.Channel).GetJobAsync(new GetJobRequest { Id = jobId }, deadline: DateTime.UtcNow.AddSeconds(5));
                    var placed = job.History.FirstOrDefault(e => e.Kind == "placed" && e.Time.ToDateTimeOffset() > killedAt);
                    if (placed is not null) return placed.Time.ToDateTimeOffset() - killedAt;
                }
                catch (RpcException) { }
            }
        }
        return null;
    }

    /// <summary>
    /// Every acknowledged job exists, is listed, and is consistent: running (or relocating) jobs are held by exactly their
    /// own site and no other; a job was placed at most once; event sequences are unique.
    /// </summary>
    private async Task<(int Lost, int Doubled)> CheckJobsAsync(SiloProcess silo)
    {
        var jobs = new JobService.JobServiceClient(silo.Channel);
        var fleetClient = new FleetService.FleetServiceClient(silo.Channel);
        var listed = (await jobs.ListJobsAsync(new ListJobsRequest { Tenant = Tenant, PageSize = 1000 })).Jobs.Select(j => j.Id).ToHashSet();
        var holders = new Dictionary<string, List<string>>();
        foreach (var siteId in SiteIds)
            foreach (var held in (await fleetClient.GetSiteAsync(new GetSiteRequest { Id = siteId })).Jobs)
                (holders.TryGetValue(held.JobId, out var list) ? list : holders[held.JobId] = []).Add(siteId);

        int lost = 0, doubled = 0;
        foreach (var (requestId, (jobId, _)) in _acknowledged)
        {
            Job job;
            try { job = await jobs.GetJobAsync(new GetJobRequest { Id = jobId }); }
            catch (RpcException ex) when (ex.StatusCode == StatusCode.NotFound)
            {
                lost++;
                _violations.Add($"job {jobId} (request {requestId}) acknowledged but not found");
                continue;
            }
            if (!listed.Contains(jobId)) { lost++; _violations.Add($"job {jobId} exists but is missing from ListJobs"); }
            var sites = holders.GetValueOrDefault(jobId) ?? [];
            var placements = job.History.Count(e => e.Kind == "placed");
            var duplicateSequences = job.History.Count - job.History.Select(e => e.Sequence).Distinct().Count();
            if (sites.Count > 1 || placements > 1 || duplicateSequences > 0)
            {
                doubled++;
                _violations.Add($"job {jobId}: held by [{string.Join(", ", sites)}], placed {placements} times, {duplicateSequences} duplicate events");
            }
            if (job.State is JobState.Running or JobState.Relocating && !(sites.Count == 1 && sites[0] == job.Site))
                _violations.Add($"job {jobId} is {job.State} at {job.Site} but held by [{string.Join(", ", sites)}]");
            if (job.State is JobState.Queued or JobState.Paused or JobState.Completed && sites.Count > 0)
                _violations.Add($"job {jobId} is {job.State} but held by [{string.Join(", ", sites)}]");
        }
        return (lost, doubled);
    }

    private sealed record Snapshot(Dictionary<string, Job> Jobs, Dictionary<string, SiteStatus> Sites);

    private async Task<Snapshot> SnapshotAsync(SiloProcess silo)
    {
        var jobs = new JobService.JobServiceClient(silo.Channel);
        var fleetClient = new FleetService.FleetServiceClient(silo.Channel);
        var result = new Snapshot([], []);
        foreach (var summary in (await jobs.ListJobsAsync(new ListJobsRequest { Tenant = Tenant, PageSize = 1000 })).Jobs)
            result.Jobs[summary.Id] = await jobs.GetJobAsync(new GetJobRequest { Id = summary.Id });
        foreach (var siteId in SiteIds) result.Sites[siteId] = await fleetClient.GetSiteAsync(new GetSiteRequest { Id = siteId });
        return result;
    }

    /// <summary>
    /// After a full restart every job and site is back: a job's history before the stop is a prefix of its history after
    /// (the new silos' first ticks may add to it), its epoch never goes back; a site keeps its configuration, and its
    /// step time and energy counters never go back.
    /// </summary>
    private static List<string> CompareRestart(Snapshot before, Snapshot after)
    {
        var problems = new List<string>();
        foreach (var (id, job) in before.Jobs)
        {
            if (!after.Jobs.TryGetValue(id, out var again)) { problems.Add($"job {id} missing after the restart"); continue; }
            if (again.Epoch < job.Epoch) problems.Add($"job {id}: epoch {job.Epoch} -> {again.Epoch}");
            var prefix = again.History.Take(job.History.Count).Select(e => (e.Sequence, e.Kind, e.ToSite)).ToList();
            if (!prefix.SequenceEqual(job.History.Select(e => (e.Sequence, e.Kind, e.ToSite))))
                problems.Add($"job {id}: history before the stop ({job.History.Count} events) is not a prefix of the history after ({again.History.Count})");
        }
        foreach (var (id, site) in before.Sites)
        {
            if (!after.Sites.TryGetValue(id, out var again)) { problems.Add($"site {id} missing after the restart"); continue; }
            if (!again.Site.Equals(site.Site)) problems.Add($"site {id}: configuration changed");
            if (again.SteppedAt.ToDateTimeOffset() < site.SteppedAt.ToDateTimeOffset()) problems.Add($"site {id}: stepped_at went back");
            if (Energy(again.Ledger) + 1e-9 < Energy(site.Ledger)) problems.Add($"site {id}: energy {Energy(site.Ledger)} -> {Energy(again.Ledger)} MWh");
        }
        return problems;
    }

    private static double Energy(EnergyLedger ledger) => ledger.GreenMwh + ledger.BatteryMwh + ledger.GridMwh;

    public Task InitializeAsync() => Task.CompletedTask;

    /// <summary>Every process the test started dies with it, whatever happened (xunit 2 calls this, not IAsyncDisposable).</summary>
    public async Task DisposeAsync()
    {
        foreach (var silo in _silos) await silo.DisposeAsync();
        if (_redis is not null) await _redis.DisposeAsync();
        try { Directory.Delete(_root, recursive: true); } catch (IOException) { }
    }
}
