namespace Scheduler.Core.Tests;

using Scheduler.Core.Lifecycle;
using Scheduler.Core.Policy;
using static Build;

public class LifecycleTests
{
    private static Decision D(DecisionKind kind, string? from, string to, RelocationCost? move = null) =>
        new(kind, "j", from, to, "test", "", [], move, 0);

    [Fact]
    public void Apply_WalksTheHappyPath_AndBumpsTheEpochOnEveryPlacementChange()
    {
        var job = Queued(Job("j", gpus: 10, workGpuHours: 20));

        job = JobLifecycle.Apply(job, D(DecisionKind.Place, null, "a"), T0);
        Assert.Equal((JobStatus.Running, "a", 1L), (job.Status, job.SiteId, job.Epoch));

        job = JobLifecycle.Apply(job, D(DecisionKind.Relocate, "a", "b", new RelocationCost(10, 0.5, 0, 0)), T0.AddHours(1));
        Assert.Equal((JobStatus.Relocating, "b", 2L, T0.AddHours(1.5)), (job.Status, job.SiteId, job.Epoch, job.TransferEndsAt));

        Assert.Equal(JobStatus.Relocating, JobLifecycle.CompleteTransfer(job, T0.AddHours(1.4)).Status);
        job = JobLifecycle.CompleteTransfer(job, T0.AddHours(1.5));
        Assert.Equal((JobStatus.Running, "b"), (job.Status, job.SiteId));

        job = JobLifecycle.Apply(job, D(DecisionKind.Pause, "b", "b"), T0.AddHours(2));
        Assert.Equal((JobStatus.Paused, "b", 3L), (job.Status, job.SiteId, job.Epoch));

        job = JobLifecycle.Apply(job, D(DecisionKind.Resume, "b", "b"), T0.AddHours(3));
        Assert.Equal(JobStatus.Running, job.Status);

        job = JobLifecycle.Progress(job, 15, T0.AddHours(4));
        Assert.Equal((JobStatus.Running, 5.0), (job.Status, job.RemainingGpuHours));
        job = JobLifecycle.Progress(job, 5, T0.AddHours(5));
        Assert.Equal((JobStatus.Completed, 0.0), (job.Status, job.RemainingGpuHours));
    }

    [Fact]
    public void Apply_ResumeAtAnotherSite_RelocatesTheCheckpointFirst()
    {
        var job = Paused(Job("j"), "a");

        job = JobLifecycle.Apply(job, D(DecisionKind.Resume, "a", "b", new RelocationCost(10, 0.25, 0, 0)), T0);

        Assert.Equal((JobStatus.Relocating, "b", T0.AddHours(0.25)), (job.Status, job.SiteId, job.TransferEndsAt));
    }

    public static TheoryData<string, JobStatus, DecisionKind> IllegalTransitions() => new()
    {
        { "place a running job", JobStatus.Running, DecisionKind.Place },
        { "relocate a queued job", JobStatus.Queued, DecisionKind.Relocate },
        { "pause a paused job", JobStatus.Paused, DecisionKind.Pause },
        { "resume a running job", JobStatus.Running, DecisionKind.Resume },
        { "relocate a relocating job", JobStatus.Relocating, DecisionKind.Relocate },
        { "place a completed job", JobStatus.Completed, DecisionKind.Place },
        { "resume a cancelled job", JobStatus.Cancelled, DecisionKind.Resume },
    };

    [Theory]
    [MemberData(nameof(IllegalTransitions))]
    public void Apply_RefusesAnIllegalTransition(string name, JobStatus status, DecisionKind kind)
    {
        var job = Queued(Job("j")) with { Status = status, SiteId = status == JobStatus.Queued ? null : "a" };

        var ex = Assert.Throws<InvalidJobTransitionException>(() => JobLifecycle.Apply(job, D(kind, "a", "b"), T0));
        Assert.Equal(status, ex.Status);
        Assert.Contains("cannot", ex.Message, StringComparison.Ordinal);
        _ = name;
    }

    [Fact]
    public void Cancel_EndsAnyLiveJob_ButNotAFinishedOne()
    {
        Assert.Equal(JobStatus.Cancelled, JobLifecycle.Cancel(Running(Job("j"), "a"), T0).Status);
        Assert.Equal(JobStatus.Cancelled, JobLifecycle.Cancel(Queued(Job("j")), T0).Status);
        var done = Queued(Job("j")) with { Status = JobStatus.Completed };
        Assert.Throws<InvalidJobTransitionException>(() => JobLifecycle.Cancel(done, T0));
    }

    [Fact]
    public void Progress_OnlyForRunningJobs_AndOnlyFiniteNonNegativeWork()
    {
        Assert.Throws<InvalidJobTransitionException>(() => JobLifecycle.Progress(Paused(Job("j"), "a"), 1, T0));
        Assert.Throws<ArgumentOutOfRangeException>(() => JobLifecycle.Progress(Running(Job("j"), "a"), double.NaN, T0));
        Assert.Throws<ArgumentOutOfRangeException>(() => JobLifecycle.Progress(Running(Job("j"), "a"), -1, T0));
    }

    [Fact]
    public void Slack_IsTimeToDeadlineMinusRemainingRunTime()
    {
        var job = Queued(Job("j", gpus: 10, workGpuHours: 50, deadline: T0.AddHours(8)));

        Assert.Equal(TimeSpan.FromHours(3), job.Slack(T0));
        Assert.Equal(TimeSpan.FromHours(2), job.Slack(T0, extraHours: 1));
        Assert.Equal(TimeSpan.MaxValue, Queued(Job("k")).Slack(T0));
    }
}
