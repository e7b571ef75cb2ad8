namespace Scheduler.Core.Tests;

using Scheduler.Core.Lifecycle;
using Scheduler.Core.Model;
using Scheduler.Core.Policy;
using Scheduler.Core.Policy.Filters;
using Scheduler.Core.Policy.Scorers;
using static Build;

/// <summary>The composed pipeline and the dispatcher's five phases.</summary>
public class DispatcherTests
{
    private static DispatchPlan Decide(IReadOnlyList<SiteSnapshot> sites, params JobState[] jobs) =>
        new Dispatcher(new PolicyOptions()).Decide(Fleet(T0, sites, jobs));

    [Fact]
    public void SitePipeline_NormalisesEachScorerToHundred_AndWeightsThem()
    {
        var pipeline = new SitePipeline("test", [], [(new GreenHeadroomScorer(), 3), (new BatteryStateScorer(), 1)]);
        var battery = Battery(capacityMwh: 10, min: 0);
        SiteView[] sites =
        [
            new(Snapshot(Site("a", battery: battery), greenMw: 10, socMwh: 0), 0),
            new(Snapshot(Site("b", battery: battery), greenMw: 5, socMwh: 8), 1),
            new(Snapshot(Site("c", battery: battery), greenMw: 0, socMwh: 4), 2),
        ];

        var best = pipeline.Evaluate(Queued(Job("j")), null, sites, null, T0, (_, _, _) => null, 0, 1);
        var explained = pipeline.Explain();

        Assert.Equal("a", best!.Id);
        Assert.Equal([100.0, 50.0, 0.0], explained.Select(e => e.Scores[0].Normalised));
        Assert.Equal([0.0, 100.0, 50.0], explained.Select(e => e.Scores[1].Normalised));
        Assert.Equal([75.0, 62.5, 12.5], explained.Select(e => e.TotalScore));
    }

    [Fact]
    public void SitePipeline_RecordsTheFirstRejectingFilter_PerSite()
    {
        var pipeline = new PipelineStack(new PolicyOptions()).Flexible;
        SiteView[] sites = [new(Snapshot(Site("full", gpus: 50), 100), 0), new(Snapshot(Site("dark"), 0), 1), new(Snapshot(Site("sunny"), 100), 2)];

        var best = pipeline.Evaluate(Queued(Job("j", gpus: 100)), null, sites, null, T0, (_, _, _) => null, 0, 1);
        var explained = pipeline.Explain().ToDictionary(e => e.SiteId);

        Assert.Equal("sunny", best!.Id);
        Assert.Equal(CapacityFilter.FilterName, explained["full"].RejectedBy);
        Assert.Contains("needs 100 GPUs, 50 free", explained["full"].Rejection);
        Assert.Equal(GreenSurplusFilter.FilterName, explained["dark"].RejectedBy);
        Assert.True(explained["sunny"].Passed);
        Assert.Equal(4, explained["sunny"].Scores.Count);
    }

    [Fact]
    public void Place_StartsAQueuedJob_WhereTheSurplusIs()
    {
        var plan = Decide([Snapshot(Site("a"), 0), Snapshot(Site("b"), 5)], Queued(Job("j")));

        var d = Assert.Single(plan.Decisions);
        Assert.Equal((DecisionKind.Place, "b", DecisionReasons.GreenSurplus), (d.Kind, d.ToSiteId, d.Reason));
        Assert.Equal(2, d.Candidates.Count);
        Assert.Equal(GreenSurplusFilter.FilterName, d.Candidates.Single(c => c.SiteId == "a").RejectedBy);
    }

    [Fact]
    public void Place_InterruptibleJobWaits_WhenNoSiteHasSurplus()
    {
        var plan = Decide([Snapshot(Site("a"), 0)], Queued(Job("j", deadline: T0.AddDays(2))));

        Assert.Empty(plan.Decisions);
        Assert.Equal(new Deferral("j", "waiting-for-surplus"), Assert.Single(plan.Deferrals));
    }

    [Fact]
    public void Place_NonInterruptibleJobStartsAtOnce_OnGridIfNeedBe()
    {
        var plan = Decide([Snapshot(Site("a"), 0)], Queued(Job("j", interruptible: false)));

        var d = Assert.Single(plan.Decisions);
        Assert.Equal((DecisionKind.Place, "a", DecisionReasons.CannotWait), (d.Kind, d.ToSiteId, d.Reason));
    }

    [Fact]
    public void Place_DeadlineGuardStartsAJob_WhoseSlackIsGone()
    {
        // 10 h of work, deadline in 10.5 h: slack 0.5 h is inside the 1 h guard.
        var plan = Decide([Snapshot(Site("a"), 0)], Queued(Job("j", workGpuHours: 1000, deadline: T0.AddHours(10.5))));

        var d = Assert.Single(plan.Decisions);
        Assert.Equal((DecisionKind.Place, DecisionReasons.DeadlineGuard), (d.Kind, d.Reason));
    }

    [Fact]
    public void Place_NeverGivesASiteMoreGpusThanItHas()
    {
        var jobs = Enumerable.Range(0, 5).Select(i => Queued(Job($"j{i}", gpus: 400, interruptible: false))).ToArray();

        var plan = Decide([Snapshot(Site("a", gpus: 1000), 100)], jobs);

        Assert.Equal(2, plan.Decisions.Count);
        Assert.Equal(3, plan.Deferrals.Count(d => d.Reason == "no-capacity"));
    }

    [Fact]
    public void Explain_RecordsEachSiteAsItWasWhenTheJobWasEvaluated()
    {
        // Both jobs prefer "a"; the first takes 600 of its 1,000 GPUs, so the second is placed at "b".
        var plan = Decide([Snapshot(Site("a"), 5), Snapshot(Site("b"), 1)],
            Queued(Job("first", gpus: 600, interruptible: false, arrival: T0.AddMinutes(-2))),
            Queued(Job("second", gpus: 600, interruptible: false, arrival: T0.AddMinutes(-1))));

        var first = plan.Decisions.Single(d => d.JobId == "first");
        var second = plan.Decisions.Single(d => d.JobId == "second");
        Assert.Equal(("a", "b"), (first.ToSiteId, second.ToSiteId));
        // Read after the round: the first job's record still shows "a" as it was before it took the GPUs.
        Assert.True(first.Candidates.Single(c => c.SiteId == "a").Passed);
        Assert.Equal("needs 600 GPUs, 400 free", second.Candidates.Single(c => c.SiteId == "a").Rejection);
    }

    [Fact]
    public void Relocate_MovesARunningJob_FromDeficitToSurplus()
    {
        // "a" carries 0.5 MW on no green; "b" has 2 MW of surplus.
        var plan = Decide([Snapshot(Site("a"), 0), Snapshot(Site("b"), 2)],
            Running(Job("j", gpus: 500, workGpuHours: 5000), "a"));

        var d = Assert.Single(plan.Decisions);
        Assert.Equal((DecisionKind.Relocate, "a", "b", DecisionReasons.RelocateToSurplus), (d.Kind, d.FromSiteId, d.ToSiteId, d.Reason));
        Assert.NotNull(d.Relocation);
        Assert.True(d.ExpectedGreenGainMegawattHours > 1.5 * d.Relocation!.Value.TotalMegawattHours);
        // 10 GB over 100 Gbps + 2 min restore.
        Assert.Equal(10 * 8 / 100.0 / 3600 + 2 / 60.0, d.Relocation.Value.TransferHours, 12);
    }

    [Fact]
    public void Relocate_DoesNotMoveAJob_InCooldown()
    {
        var plan = Decide([Snapshot(Site("a"), 0), Snapshot(Site("b"), 2)],
            Running(Job("j", gpus: 500, workGpuHours: 5000, interruptible: false), "a", since: T0.AddMinutes(-30)));

        Assert.Empty(plan.Decisions);
    }

    [Fact]
    public void Relocate_DoesNotMove_WhenTheGainDoesNotPayTheMargin()
    {
        // 3 minutes of work left: the move's lost time outweighs the green gained.
        var plan = Decide([Snapshot(Site("a"), 0), Snapshot(Site("b"), 2)],
            Running(Job("j", gpus: 500, workGpuHours: 25, interruptible: false, checkpointGb: 500), "a"));

        Assert.Empty(plan.Decisions);
    }

    [Fact]
    public void Relocate_NeedsALink()
    {
        var sites = new[] { Snapshot(Site("a"), 0), Snapshot(Site("b"), 2) };
        var plan = new Dispatcher(new PolicyOptions()).Decide(Fleet(T0, sites, [Running(Job("j", gpus: 500, interruptible: false), "a")], links: []));

        Assert.Empty(plan.Decisions);
    }

    [Fact]
    public void Pause_StopsAnInterruptibleJob_WhenTheDeficitExceedsTheBattery()
    {
        var plan = Decide([Snapshot(Site("a"), 0)], Running(Job("j", gpus: 500, deadline: T0.AddDays(3)), "a"));

        var d = Assert.Single(plan.Decisions);
        Assert.Equal((DecisionKind.Pause, "a", DecisionReasons.DeficitBeyondBattery), (d.Kind, d.ToSiteId, d.Reason));
    }

    [Fact]
    public void Pause_LetsTheBatteryBridgeASmallDeficit()
    {
        // 0.5 MW deficit; battery holds 4 MWh above its minimum: enough for an hour.
        var site = Site("a", battery: Battery(capacityMwh: 10, maxMw: 5, min: 0.1));
        var plan = Decide([Snapshot(site, 0, socMwh: 5)], Running(Job("j", gpus: 500, deadline: T0.AddDays(3)), "a"));

        Assert.Empty(plan.Decisions);
    }

    [Fact]
    public void Pause_SparesAJobWhoseDeadlineIsNear()
    {
        var plan = Decide([Snapshot(Site("a"), 0)], Running(Job("j", gpus: 500, workGpuHours: 1000, deadline: T0.AddHours(2.5)), "a"));

        Assert.Empty(plan.Decisions);
    }

    [Fact]
    public void Pause_ShedsLoad_OnAShortfall_EvenInCooldown()
    {
        var plan = Decide([Snapshot(Site("a", gridLimitMw: 0.2), 0)],
            Running(Job("j", gpus: 500, deadline: T0.AddDays(3)), "a", since: T0.AddMinutes(-5)));

        var d = Assert.Single(plan.Decisions);
        Assert.Equal((DecisionKind.Pause, DecisionReasons.Shortfall), (d.Kind, d.Reason));
    }

    [Fact]
    public void Resume_RestartsAPausedJob_WhenSurplusReturns_AtItsOwnSite()
    {
        var plan = Decide([Snapshot(Site("a"), 1), Snapshot(Site("b"), 1)], Paused(Job("j", gpus: 500), "a"));

        var d = Assert.Single(plan.Decisions);
        Assert.Equal((DecisionKind.Resume, "a", "a"), (d.Kind, d.FromSiteId, d.ToSiteId));
        Assert.Null(d.Relocation);
    }

    [Fact]
    public void Resume_ElsewhereCarriesTheMoveCost()
    {
        var plan = Decide([Snapshot(Site("a"), 0), Snapshot(Site("b"), 1)], Paused(Job("j", gpus: 500), "a"));

        var d = Assert.Single(plan.Decisions);
        Assert.Equal((DecisionKind.Resume, "a", "b"), (d.Kind, d.FromSiteId, d.ToSiteId));
        Assert.NotNull(d.Relocation);
    }

    [Fact]
    public void Dispatcher_RejectsInvalidOptions_AtConstruction()
    {
        var ex = Assert.Throws<ArgumentException>(() => new Dispatcher(new PolicyOptions { RelocationMarginFactor = 0.5, StartGreenFraction = 2 }));
        Assert.Contains(nameof(PolicyOptions.RelocationMarginFactor), ex.Message);
        Assert.Contains(nameof(PolicyOptions.StartGreenFraction), ex.Message);
    }

    [Fact]
    public void AJobThatCannotWait_GetsItsGpus_BeforeARelocationTakesThem()
    {
        // a is in deficit and would send its 200-GPU job to b; b has 250 free GPUs, and an inference job pinned to b
        // must run now. The pinned job is placed first; the move no longer fits and does not happen.
        var sites = new[] { Snapshot(Site("a", gpus: 1000), greenMw: 0), Snapshot(Site("b", gpus: 250), greenMw: 10) };
        var mover = Running(Job("mover", gpus: 200, workGpuHours: 200 * 10, interruptible: false, relocatable: true), "a");
        var pinned = Queued(Job("inference", gpus: 100, workGpuHours: 100, interruptible: false, relocatable: false, allowed: ["b"]));

        var plan = new Dispatcher(new PolicyOptions()).Decide(Fleet(T0, sites, [mover, pinned], FullMesh(sites[0].Spec, sites[1].Spec)));

        var placed = Assert.Single(plan.Decisions);
        Assert.Equal(("inference", DecisionKind.Place, "b"), (placed.JobId, placed.Kind, placed.ToSiteId));
    }
}
