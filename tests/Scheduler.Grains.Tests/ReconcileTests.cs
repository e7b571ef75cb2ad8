namespace Scheduler.Grains.Tests;

using Scheduler.Core.Lifecycle;

/// <summary>
/// Each tick the dispatcher makes every site run exactly the jobs their records bind to it: it restarts a job a site
/// dropped and stops one a site runs that is not bound there. A site that runs as many jobs as are bound to it, each of
/// them bound there, is taken as agreeing without the full comparison; these tests hold both paths to the same answer.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class ReconcileTests(ClusterFixture fixture)
{
    private static readonly TimeSpan Step = TimeSpan.FromMinutes(1);

    [Fact]
    public async Task ASiteThatDroppedAJob_IsToldToRunItAgain_AtTheNextTick()
    {
        var fleet = new TestFleet(fixture);
        var site = await fleet.AddSiteAsync("only");
        await fleet.TickAsync(Step);
        await fleet.ReportAsync(site, 5);
        await fleet.SubmitAsync(fleet.Job("j"));
        await fleet.TickAsync(Step);
        var job = await fleet.JobAsync("j");
        Assert.Equal([site], await fleet.SitesHoldingAsync(job.State.Id));

        Assert.True(await fleet.Client.Get<ISiteGrain>(site).StopJobAsync(job.State.Id, job.State.Epoch));
        Assert.Empty(await fleet.SitesHoldingAsync(job.State.Id));
        await fleet.TickAsync(Step);

        Assert.Equal([site], await fleet.SitesHoldingAsync(job.State.Id));
        Assert.Equal(JobStatus.Running, (await fleet.JobAsync("j")).State.Status);
    }

    [Fact]
    public async Task ASiteRunningAJobBoundElsewhere_InsteadOfItsOwn_IsPutRight_ThoughItRunsAsManyAsAreBoundToIt()
    {
        var fleet = new TestFleet(fixture);
        var a = await fleet.AddSiteAsync("a");
        var b = await fleet.AddSiteAsync("b");
        await fleet.TickAsync(Step);
        await fleet.ReportAsync(a, 5);
        await fleet.ReportAsync(b, 5);
        await fleet.SubmitAsync(fleet.Job("at-a") with { AllowedSites = [a] });
        await fleet.SubmitAsync(fleet.Job("at-b") with { AllowedSites = [b] });
        await fleet.TickAsync(Step);
        var atA = (await fleet.JobAsync("at-a")).State;
        var atB = (await fleet.JobAsync("at-b")).State;
        Assert.Equal([a], await fleet.SitesHoldingAsync(atA.Id));
        Assert.Equal([b], await fleet.SitesHoldingAsync(atB.Id));

        // Site a drops its own job and runs b's instead: one job, as one is bound to it, but the wrong one.
        var siteA = fleet.Client.Get<ISiteGrain>(a);
        Assert.True(await siteA.StopJobAsync(atA.Id, atA.Epoch));
        await siteA.StartJobAsync(new JobAssignment(atB, null));
        Assert.Equal([a, b], await fleet.SitesHoldingAsync(atB.Id));

        await fleet.TickAsync(Step);

        Assert.Equal([a], await fleet.SitesHoldingAsync(atA.Id));
        Assert.Equal([b], await fleet.SitesHoldingAsync(atB.Id));
    }
}
