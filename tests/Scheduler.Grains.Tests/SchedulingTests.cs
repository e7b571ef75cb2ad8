namespace Scheduler.Grains.Tests;

using Scheduler.Core.Lifecycle;
using Scheduler.Core.Policy;

[Collection(ClusterCollection.Name)]
public class SchedulingTests(ClusterFixture fixture)
{
    private static readonly TimeSpan Step = TimeSpan.FromMinutes(15);

    [Fact]
    public async Task Job_IsPlacedAtTheSiteWithSurplus()
    {
        var fleet = new TestFleet(fixture);
        var dark = await fleet.AddSiteAsync("dark");
        var windy = await fleet.AddSiteAsync("windy");
        await fleet.TickAsync(Step);
        await fleet.ReportAsync(dark, 0);
        await fleet.ReportAsync(windy, 5);
        await fleet.SubmitAsync(fleet.Job("j"));

        var tick = await fleet.TickAsync(Step);

        var decision = Assert.Single(tick.Decisions);
        Assert.Equal((DecisionKind.Place, windy), (decision.Kind, decision.ToSiteId));
        var job = await fleet.JobAsync("j");
        Assert.Equal((JobStatus.Running, windy), (job.State.Status, job.State.SiteId));
        Assert.Equal(["created", "placed"], job.History.Select(e => e.Kind));
        Assert.Equal([windy], await fleet.SitesHoldingAsync(job.State.Id));
    }

    [Fact]
    public async Task Job_RelocatesWhenTheSurplusMoves_AndIsNeverAtTwoSites()
    {
        var fleet = new TestFleet(fixture);
        var (a, b, spec) = await fleet.JobAtALitSiteAsync(Step);
        Assert.Equal(a, (await fleet.JobAsync("j")).State.SiteId);

        // The wind moves from a to b; after the cooldown the job follows it.
        var seen = new List<JobStatus>();
        for (var i = 0; i < 8; i++)
        {
            await fleet.ReportAsync(a, 0);
            await fleet.ReportAsync(b, 5);
            await fleet.TickAsync(Step);
            var job = await fleet.JobAsync("j");
            seen.Add(job.State.Status);
            Assert.True((await fleet.SitesHoldingAsync(spec.Id)).Count <= 1, "job held by two sites");
        }

        var final = await fleet.JobAsync("j");
        Assert.Equal((JobStatus.Running, b), (final.State.Status, final.State.SiteId));
        Assert.Contains(JobStatus.Relocating, seen);
        Assert.Contains(final.History, e => e.Kind == "relocating" && e.FromSiteId == a && e.ToSiteId == b && e.Reason == DecisionReasons.RelocateToSurplus);
        Assert.Contains(final.History, e => e.Kind == "landed");
        Assert.Equal([b], await fleet.SitesHoldingAsync(spec.Id));
        Assert.Equal(1, final.Ledger.Relocations);
    }

    [Fact]
    public async Task InterruptibleJob_PausesInADeficit_AndResumesWhenSurplusReturns()
    {
        var fleet = new TestFleet(fixture);
        var site = await fleet.AddSiteAsync("only");
        await fleet.TickAsync(Step);
        await fleet.ReportAsync(site, 5);
        await fleet.SubmitAsync(fleet.Job("j", gpus: 500, workGpuHours: 500 * 10, interruptible: true, deadlineIn: TimeSpan.FromDays(3)));
        await fleet.TickAsync(Step);

        await fleet.ReportAsync(site, 0);
        await fleet.TickAsync(TimeSpan.FromHours(2)); // past the cooldown, in a deficit: pause
        Assert.Equal(JobStatus.Paused, (await fleet.JobAsync("j")).State.Status);
        Assert.Empty(await fleet.SitesHoldingAsync(fleet.Id("j")));

        await fleet.ReportAsync(site, 5);
        await fleet.TickAsync(Step);
        var job = await fleet.JobAsync("j");
        Assert.Equal((JobStatus.Running, site), (job.State.Status, job.State.SiteId));
        Assert.Equal(["created", "placed", "paused", "resumed"], job.History.Select(e => e.Kind));
    }

    [Fact]
    public async Task InterruptibleJob_WaitsForSurplus_WithOneDeferredEvent_ThenStarts()
    {
        var fleet = new TestFleet(fixture);
        var site = await fleet.AddSiteAsync("only");
        await fleet.TickAsync(Step);
        await fleet.SubmitAsync(fleet.Job("j", interruptible: true, deadlineIn: TimeSpan.FromDays(2)));

        for (var i = 0; i < 3; i++)
        {
            await fleet.ReportAsync(site, 0);
            var tick = await fleet.TickAsync(Step);
            Assert.Empty(tick.Decisions);
        }
        await fleet.ReportAsync(site, 5);
        await fleet.TickAsync(Step);

        var job = await fleet.JobAsync("j");
        Assert.Equal(["created", "deferred", "placed"], job.History.Select(e => e.Kind));
        Assert.Equal("waiting-for-surplus", job.History[1].Reason);
        Assert.Equal(JobStatus.Running, job.State.Status);
    }

    [Fact]
    public async Task Job_CompletesAfterItsWork_WithEnergyInItsLedger()
    {
        var fleet = new TestFleet(fixture);
        var site = await fleet.AddSiteAsync("only");
        await fleet.TickAsync(Step);
        await fleet.ReportAsync(site, 5);
        await fleet.SubmitAsync(fleet.Job("j", gpus: 100, workGpuHours: 100));
        await fleet.TickAsync(Step);     // placed
        for (var i = 0; i < 5; i++)
        {
            await fleet.ReportAsync(site, 5);
            await fleet.TickAsync(Step); // 15 minutes of work each
        }

        var job = await fleet.JobAsync("j");
        Assert.Equal(JobStatus.Completed, job.State.Status);
        Assert.Equal(0, job.State.RemainingGpuHours);
        Assert.Equal(0.1, job.Ledger.ComputeMegawattHours, 9); // 100 GPU-hours at 1 kW, all green
        Assert.Equal(1.0, job.Ledger.GreenShare, 9);
        Assert.Empty(await fleet.SitesHoldingAsync(job.State.Id));
    }

    [Fact]
    public async Task Cancel_ReleasesTheSite_AndTheDispatcherListsItCancelled()
    {
        var fleet = new TestFleet(fixture);
        var site = await fleet.AddSiteAsync("only");
        await fleet.TickAsync(Step);
        await fleet.ReportAsync(site, 5);
        var record = await fleet.SubmitAsync(fleet.Job("j"));
        await fleet.TickAsync(Step);

        var cancelled = await fleet.Client.GetGrain<IJobGrain>(record.State.Id).CancelAsync(fleet.Now, "test");
        await fleet.Client.GetGrain<IDispatcherGrain>(fleet.Region).TrackAsync(cancelled);

        Assert.Equal(JobStatus.Cancelled, cancelled.State.Status);
        Assert.Empty(await fleet.SitesHoldingAsync(record.State.Id));
        var page = await fleet.Client.GetGrain<IDispatcherGrain>(fleet.Region).ListJobsAsync(new JobQuery(null, JobStatus.Cancelled, null, 10, 0));
        Assert.Equal(record.State.Id, Assert.Single(page.Jobs).State.Id);
        await Assert.ThrowsAsync<JobTransitionException>(() => fleet.Client.GetGrain<IJobGrain>(record.State.Id).CancelAsync(fleet.Now, "again"));
    }

    [Fact]
    public async Task Create_IsIdempotentOnTheRequestId_AndRefusesAnotherRequest()
    {
        var fleet = new TestFleet(fixture);
        await fleet.AddSiteAsync("only");
        var spec = fleet.Job("j");

        var first = await fleet.SubmitAsync(spec, "req-1");
        var again = await fleet.SubmitAsync(spec, "req-1");

        Assert.Equal(first.CreatedAt, again.CreatedAt);
        Assert.Single(again.History);
        var page = await fleet.Client.GetGrain<IDispatcherGrain>(fleet.Region).ListJobsAsync(new JobQuery(null, null, null, 10, 0));
        Assert.Single(page.Jobs);
        await Assert.ThrowsAsync<JobConflictException>(() => fleet.SubmitAsync(spec, "req-2"));
        await Assert.ThrowsAsync<JobConflictException>(() => fleet.SubmitAsync(spec with { Gpus = spec.Gpus + 1 }, "req-1"));
    }

    [Fact]
    public async Task Site_RefusesACommandFromAnOlderEpoch()
    {
        var fleet = new TestFleet(fixture);
        var site = fleet.Client.GetGrain<ISiteGrain>(await fleet.AddSiteAsync("only"));
        var job = JobState.Queued(fleet.Job("j")) with { Status = JobStatus.Running, Epoch = 5 };

        await site.StartJobAsync(new JobAssignment(job, null));

        Assert.False(await site.StopJobAsync(job.Id, epoch: 4));
        await Assert.ThrowsAsync<StaleEpochException>(() => site.StartJobAsync(new JobAssignment(job with { Epoch = 3 }, null)));
        Assert.True(await site.StopJobAsync(job.Id, epoch: 6));
    }
}
