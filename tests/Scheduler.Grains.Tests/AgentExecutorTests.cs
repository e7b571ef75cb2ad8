namespace Scheduler.Grains.Tests;

using Scheduler.Core.Execution;
using Scheduler.Core.Lifecycle;
using Scheduler.Core.Model;

/// <summary>
/// The executor seam at grain level: a site whose agent attached runs jobs through commands and credits the agent's
/// reports instead of the clock; a move orders a checkpoint and the new site starts only once it has arrived; a site
/// whose agent is gone past the grace gives its jobs back to the queue.
/// </summary>
[Collection(ClusterCollection.Name)]
public class AgentExecutorTests(ClusterFixture fixture)
{
    private static readonly TimeSpan Step = TimeSpan.FromMinutes(15);

    private static readonly WorkloadSpec Workload = new("train", ["--steps", "100"], new Dictionary<string, string> { ["SEED"] = "1" });

    /// <summary>A job with something for an agent to run.</summary>
    private static JobSpec WithWorkload(JobSpec spec) => spec with { Workload = Workload };

    private static async Task<IReadOnlyList<AgentCommand>> CommandsAsync(ISiteGrain site, string session, long after = 0) =>
        await site.WaitForAgentCommandsAsync(session, after, TimeSpan.Zero);

    /// <summary>
    /// Two sites, each with an agent attached; wind at the first only. The job (given a workload) is placed at the
    /// first, and its agent reports it started.
    /// </summary>
    private async Task<(TestFleet Fleet, string A, string B, ISiteGrain SiteA, ISiteGrain SiteB, string SessionA, string SessionB, JobState Placed)>
        StartedAtTheFirstOfTwoAgentSitesAsync(Func<TestFleet, JobSpec> job)
    {
        var fleet = new TestFleet(fixture);
        var a = await fleet.AddSiteAsync("a");
        var b = await fleet.AddSiteAsync("b");
        var siteA = fleet.Client.GetGrain<ISiteGrain>(a);
        var siteB = fleet.Client.GetGrain<ISiteGrain>(b);
        var sessionA = await siteA.AttachAgentAsync(new AgentHello("agent-a", []));
        var sessionB = await siteB.AttachAgentAsync(new AgentHello("agent-b", []));
        await fleet.TickAsync(Step);
        await fleet.ReportAsync(a, 5);
        await fleet.ReportAsync(b, 0);
        await fleet.SubmitAsync(WithWorkload(job(fleet)));
        await fleet.TickAsync(Step);
        var placed = (await fleet.JobAsync("j")).State;
        Assert.Equal(a, placed.SiteId);
        Assert.True(await siteA.ReportAgentAsync(sessionA, new AgentReport(AgentReportKind.Started, placed.Id, placed.Epoch)));
        return (fleet, a, b, siteA, siteB, sessionA, sessionB, placed);
    }

    [Fact]
    public async Task AgentSite_CreditsTheAgentsReportedWork_NotTheClock_AndCompletesOnlyOnExitZero()
    {
        var fleet = new TestFleet(fixture);
        var a = await fleet.AddSiteAsync("a");
        var site = fleet.Client.GetGrain<ISiteGrain>(a);
        var session = await site.AttachAgentAsync(new AgentHello("agent-a", []));
        await fleet.TickAsync(Step);
        await fleet.ReportAsync(a, 5);
        await fleet.SubmitAsync(WithWorkload(fleet.Job("j", gpus: 100, workGpuHours: 1000)));
        await fleet.TickAsync(Step);
        var job = (await fleet.JobAsync("j")).State;

        var start = Assert.Single(await CommandsAsync(site, session));
        Assert.Equal((AgentCommandKind.Start, job.Id, job.Epoch, (string?)null), (start.Kind, start.JobId, start.Epoch, start.RestoreFrom));
        Assert.Equal(Workload, start.Workload);

        Assert.True(await site.ReportAgentAsync(session, new AgentReport(AgentReportKind.Progress, job.Id, job.Epoch, WorkDone: 25, WorkTotal: 100)));
        await fleet.ReportAsync(a, 5);
        await fleet.TickAsync(Step);
        // A quarter of the work, as reported: the clock alone would have credited 100 GPUs × 0.25 h = 25 GPU-hours.
        Assert.Equal(750, (await fleet.JobAsync("j")).State.RemainingGpuHours, 9);

        await fleet.ReportAsync(a, 5);
        await fleet.TickAsync(Step);
        Assert.Equal(750, (await fleet.JobAsync("j")).State.RemainingGpuHours, 9); // the same report is not credited twice

        Assert.True(await site.ReportAgentAsync(session, new AgentReport(AgentReportKind.Progress, job.Id, job.Epoch, WorkDone: 100, WorkTotal: 100)));
        await fleet.ReportAsync(a, 5);
        await fleet.TickAsync(Step);
        Assert.Equal(JobStatus.Running, (await fleet.JobAsync("j")).State.Status); // all reported, but the process has not exited

        Assert.True(await site.ReportAgentAsync(session, new AgentReport(AgentReportKind.Exited, job.Id, job.Epoch, ExitCode: 0)));
        await fleet.ReportAsync(a, 5);
        await fleet.TickAsync(Step);
        var done = (await fleet.JobAsync("j")).State;
        Assert.Equal((JobStatus.Completed, 0.0), (done.Status, done.RemainingGpuHours));
    }

    [Fact]
    public async Task Relocation_FromAnAgentSite_OrdersACheckpoint_AndTheNewSiteStartsOnlyOnceItArrives()
    {
        var (fleet, a, b, siteA, siteB, sessionA, sessionB, placed) = await StartedAtTheFirstOfTwoAgentSitesAsync(f => f.Job("j", gpus: 500, workGpuHours: 500 * 20));

        JobState job = placed;
        for (var i = 0; i < 8 && job.SiteId != b; i++)
        {
            await fleet.ReportAsync(a, 0);
            await fleet.ReportAsync(b, 5);
            await fleet.TickAsync(Step);
            job = (await fleet.JobAsync("j")).State;
        }
        Assert.Equal(b, job.SiteId);
        Assert.True(job.CheckpointPending, "the move waits for the checkpoint the old site was told to take");
        var checkpoint = (await CommandsAsync(siteA, sessionA)).Last();
        Assert.Equal((AgentCommandKind.Checkpoint, job.Epoch), (checkpoint.Kind, checkpoint.Epoch));
        // A report from the instance the move replaced is stale at the old site.
        Assert.False(await siteA.ReportAgentAsync(sessionA, new AgentReport(AgentReportKind.Progress, job.Id, placed.Epoch, WorkDone: 1, WorkTotal: 2)));

        // The transfer lands on the clock, but nothing starts at b until the checkpoint has arrived.
        for (var i = 0; i < 8 && job.Status != JobStatus.Running; i++)
        {
            await fleet.ReportAsync(b, 5);
            await fleet.TickAsync(Step);
            job = (await fleet.JobAsync("j")).State;
        }
        Assert.Equal(JobStatus.Running, job.Status);
        Assert.Empty(await CommandsAsync(siteB, sessionB));

        await fleet.Client.GetGrain<IJobGrain>(job.Id).RecordCheckpointAsync(a, "ckpt-1", 1234, job.Epoch, fleet.Now);

        var start = Assert.Single(await CommandsAsync(siteB, sessionB));
        Assert.Equal((AgentCommandKind.Start, job.Epoch, "ckpt-1"), (start.Kind, start.Epoch, start.RestoreFrom));
        Assert.Equal([b], await fleet.SitesHoldingAsync(job.Id));
    }

    [Fact]
    public async Task AgentGone_PastTheGrace_TheJobIsQueuedAgain_AndRestartsElsewhereFromItsLastCheckpoint()
    {
        var (fleet, a, b, siteA, siteB, sessionA, sessionB, placed) = await StartedAtTheFirstOfTwoAgentSitesAsync(f => f.Job("j"));
        await fleet.Client.GetGrain<IJobGrain>(placed.Id).RecordCheckpointAsync(a, "ckpt-periodic", 10, placed.Epoch, fleet.Now);

        await siteA.DetachAgentAsync(sessionA);
        await fleet.ReportAsync(a, 5);
        await fleet.ReportAsync(b, 5);
        var tick = await fleet.TickAsync(Step); // past the 2-minute grace: lost, queued, and placed where an agent is

        var job = await fleet.JobAsync("j");
        Assert.Equal((JobStatus.Running, b, "ckpt-periodic"), (job.State.Status, job.State.SiteId, job.State.CheckpointReference));
        Assert.Contains(job.History, e => e.Kind == "lost" && e.FromSiteId == a);
        Assert.Equal(b, Assert.Single(tick.Decisions).ToSiteId);
        var start = Assert.Single(await CommandsAsync(siteB, sessionB));
        Assert.Equal((AgentCommandKind.Start, job.State.Epoch, "ckpt-periodic"), (start.Kind, start.Epoch, start.RestoreFrom));
        Assert.Equal([b], await fleet.SitesHoldingAsync(job.State.Id));
    }

    [Fact]
    public async Task Reconnect_WithinTheGrace_KeepsTheJob_AndIssuesItsCommandAgain()
    {
        var fleet = new TestFleet(fixture);
        var a = await fleet.AddSiteAsync("a");
        var site = fleet.Client.GetGrain<ISiteGrain>(a);
        var first = await site.AttachAgentAsync(new AgentHello("agent-a", []));
        await fleet.TickAsync(Step);
        await fleet.ReportAsync(a, 5);
        await fleet.SubmitAsync(WithWorkload(fleet.Job("j")));
        await fleet.TickAsync(Step);
        var job = (await fleet.JobAsync("j")).State;

        await site.DetachAgentAsync(first);
        var second = await site.AttachAgentAsync(new AgentHello("agent-a", [new AgentRunningJob(job.Id, job.Epoch), new AgentRunningJob("stray", 3)]));

        await Assert.ThrowsAsync<AgentSessionEndedException>(() => site.ReportAgentAsync(first, new AgentReport(AgentReportKind.Started, job.Id, job.Epoch)));
        var commands = await CommandsAsync(site, second);
        Assert.Equal([(AgentCommandKind.Start, job.Id, job.Epoch), (AgentCommandKind.Stop, "stray", 3L)], commands.Select(c => (c.Kind, c.JobId, c.Epoch)));
        await fleet.ReportAsync(a, 5);
        await fleet.TickAsync(Step);
        Assert.Equal((JobStatus.Running, a), ((await fleet.JobAsync("j")).State.Status, (await fleet.JobAsync("j")).State.SiteId));
    }

    [Fact]
    public async Task AJobWithoutAWorkload_AtAnAgentSite_IsRunByTheClock()
    {
        var fleet = new TestFleet(fixture);
        var a = await fleet.AddSiteAsync("a");
        var site = fleet.Client.GetGrain<ISiteGrain>(a);
        var session = await site.AttachAgentAsync(new AgentHello("agent-a", []));
        await fleet.TickAsync(Step);
        await fleet.ReportAsync(a, 5);
        await fleet.SubmitAsync(fleet.Job("j", gpus: 100, workGpuHours: 1000));
        await fleet.TickAsync(Step);
        await fleet.ReportAsync(a, 5);
        await fleet.TickAsync(Step);

        Assert.Empty(await CommandsAsync(site, session));
        Assert.Equal(1000 - 100 * 0.25, (await fleet.JobAsync("j")).State.RemainingGpuHours, 9); // 100 GPUs for a quarter hour
    }

    [Fact]
    public async Task TheAgentsReportedPower_IsTheJobsLoad_InsteadOfTheModel()
    {
        var fleet = new TestFleet(fixture);
        var a = await fleet.AddSiteAsync("a"); // 1 kW per GPU at PUE 1: the model says 100 kW for 100 GPUs
        var site = fleet.Client.GetGrain<ISiteGrain>(a);
        var session = await site.AttachAgentAsync(new AgentHello("agent-a", []));
        await fleet.TickAsync(Step);
        await fleet.ReportAsync(a, 5);
        await fleet.SubmitAsync(WithWorkload(fleet.Job("j", gpus: 100, workGpuHours: 1000)));
        await fleet.TickAsync(Step);
        var job = (await fleet.JobAsync("j")).State;

        Assert.True(await site.ReportAgentAsync(session, new AgentReport(AgentReportKind.Progress, job.Id, job.Epoch, WorkDone: 1, WorkTotal: 100, PowerKilowatts: 250)));
        await fleet.ReportAsync(a, 5);
        var tick = await fleet.TickAsync(Step);

        Assert.Equal(0.25, tick.Sites.Single(s => s.Spec.Id == a).LoadMegawatts, 9); // base load 0, PUE 1: the reported 250 kW
        var ledger = (await fleet.JobAsync("j")).Ledger;
        Assert.Equal(0.25 * 0.25, ledger.GreenMegawattHours + ledger.BatteryMegawattHours + ledger.GridMegawattHours, 9); // a quarter hour of it
    }
}
