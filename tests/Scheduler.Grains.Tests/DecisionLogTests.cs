namespace Scheduler.Grains.Tests;

using CsCheck;
using Orleans.Core.Internal;
using Scheduler.Core.Lifecycle;

/// <summary>
/// A wave of decisions is stored in one write of its dispatcher's decision log before any site is told; each job
/// then writes its own record. A crash between the two loses nothing: when the dispatcher activates again, a job
/// whose own write was lost takes the log's copy, and a job changed since keeps its newer record (docs/adr/0009).
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class DecisionLogTests(ClusterFixture fixture)
{
    private static readonly TimeSpan Step = TimeSpan.FromMinutes(1);

    [Fact]
    public async Task AWavesDecisions_AreLoggedInOneWrite_AndEachJobThenStoresItsOwnRecord()
    {
        var (fleet, site, jobs) = await PlacedAsync(5);

        var logged = await StoredLogAsync(fleet);
        Assert.Equal(jobs.Select(j => j.Id).Order(), logged.Select(j => j.Record.State.Id).Order());
        foreach (var job in logged)
        {
            // The stored record already had the job's creation: the log carries only the placement.
            Assert.Equal("placed", Assert.Single(job.Record.History).Kind);
            Assert.Equal(JobStatus.Running, job.Record.State.Status);
            Assert.Equal(site, job.Record.State.SiteId);
            var stored = await StoredJobAsync(job.Record.State.Id);
            Assert.Equal(job.Record.History[^1].Sequence, stored.State!.Record!.History[^1].Sequence);
            Assert.Equal(JobStatus.Running, stored.State.Record.State.Status);
        }
    }

    /// <summary>
    /// For any mix, over a wave's jobs, of own writes lost in a crash, jobs cancelled since, and jobs left alone, the
    /// dispatcher's next activation leaves each job with the newer of its stored and its logged record, and rewrites
    /// no job that already had it.
    /// </summary>
    [Fact]
    public async Task ACrashBetweenTheLogAndTheJobsOwnWrites_LosesNoDecision_AndUndoesNoLaterChange()
    {
        await Gen.Int[0, 2].Array[4].SampleAsync(async fates =>
        {
            var (fleet, site, jobs) = await PlacedAsync(fates.Length);
            var queued = jobs.Select(j => j.Queued).ToList();
            for (var i = 0; i < fates.Length; i++)
            {
                var job = fixture.Client.GetGrain<IJobGrain>(jobs[i].Id);
                if (fates[i] == Lost) await LoseOwnWriteAsync(job, queued[i]);
                else if (fates[i] == Cancelled) await job.CancelAsync(fleet.Now, "tenant asked");
            }
            var before = await Task.WhenAll(jobs.Select(j => StoredJobAsync(j.Id)));

            await ReactivateDispatcherAsync(fleet);

            for (var i = 0; i < fates.Length; i++)
            {
                var stored = await StoredJobAsync(jobs[i].Id);
                var current = (await fixture.Client.GetGrain<IJobGrain>(jobs[i].Id).GetAsync())!;
                Assert.Equal(current.History[^1].Sequence, stored.State!.Record!.History[^1].Sequence);
                Assert.Equal(fates[i] == Cancelled ? JobStatus.Cancelled : JobStatus.Running, current.State.Status);
                if (fates[i] == Lost)
                {
                    Assert.Equal(site, current.State.SiteId);
                    Assert.Equal(["created", "placed"], current.History.Select(e => e.Kind)); // the stored events, then the logged one
                }
                else Assert.Equal(before[i].ETag, stored.ETag); // it had the decision, or something newer: not written again
            }
        }, iter: 12, threads: 1);
    }

    private const int Untouched = 0, Lost = 1, Cancelled = 2;

    /// <summary>
    /// A region of one site with <paramref name="count"/> jobs placed there by one tick's wave, each with its stored state
    /// as it was before its placement.
    /// </summary>
    private async Task<(TestFleet Fleet, string Site, List<(string Id, GrainState<JobGrainState> Queued)> Jobs)> PlacedAsync(int count)
    {
        var fleet = new TestFleet(fixture);
        var site = await fleet.AddSiteAsync("only", gpus: 100 * count);
        await fleet.TickAsync(Step);
        await fleet.ReportAsync(site, 5);
        var jobs = new List<(string, GrainState<JobGrainState>)>();
        for (var i = 0; i < count; i++)
        {
            var record = await fleet.SubmitAsync(fleet.Job($"j{i}", gpus: 100));
            jobs.Add((record.State.Id, await StoredJobAsync(record.State.Id)));
        }
        await fleet.TickAsync(Step);
        foreach (var (id, _) in jobs) Assert.Equal(JobStatus.Running, (await fixture.Client.GetGrain<IJobGrain>(id).GetAsync())!.State.Status);
        return (fleet, site, jobs);
    }

    /// <summary>
    /// The job's own write of its decision is undone, as if its silo had gone down between the log and that write: its
    /// stored state is the one before the decision, and it is active again holding that.
    /// </summary>
    private async Task LoseOwnWriteAsync(IJobGrain job, GrainState<JobGrainState> before)
    {
        var id = job.GetGrainId();
        var now = await StoredJobAsync(job.GetPrimaryKeyString());
        await fixture.Storage.WriteStateAsync("job", id, new GrainState<JobGrainState>(before.State) { ETag = now.ETag, RecordExists = true });
        await job.Cast<IGrainManagementExtension>().DeactivateOnIdle();
        var sequence = before.State!.Record!.History[^1].Sequence;
        for (var wait = 0; (await job.GetAsync())!.History[^1].Sequence != sequence; wait++)
        {
            if (wait == 200) throw new TimeoutException($"job {job.GetPrimaryKeyString()} did not load its older record");
            await Task.Delay(10);
        }
    }

    /// <summary>The region's dispatcher goes away and activates again (a new activation knows no tick yet).</summary>
    private async Task ReactivateDispatcherAsync(TestFleet fleet)
    {
        var dispatcher = fixture.Client.GetGrain<IDispatcherGrain>(fleet.Region);
        await dispatcher.Cast<IGrainManagementExtension>().DeactivateOnIdle();
        for (var wait = 0; await dispatcher.GetLastTickAsync() is not null; wait++)
        {
            if (wait == 200) throw new TimeoutException($"dispatcher {fleet.Region} did not activate again");
            await Task.Delay(10);
        }
    }

    private async Task<GrainState<JobGrainState>> StoredJobAsync(string jobId)
    {
        var stored = new GrainState<JobGrainState>(new JobGrainState());
        await fixture.Storage.ReadStateAsync("job", fixture.Client.GetGrain<IJobGrain>(jobId).GetGrainId(), stored);
        return stored;
    }

    private async Task<LoggedJob[]> StoredLogAsync(TestFleet fleet)
    {
        var stored = new GrainState<DecisionLogRecord>(new DecisionLogRecord());
        await fixture.Storage.ReadStateAsync(DecisionLog.StateName, fixture.Client.GetGrain<IDispatcherGrain>(fleet.Region).GetGrainId(), stored);
        return stored.State!.Jobs;
    }
}
