namespace Scheduler.Core.Lifecycle;

using Scheduler.Core.Model;

/// <summary>Where a job is in its life.</summary>
public enum JobStatus
{
    /// <summary>Accepted, waiting for a site (possibly waiting for surplus on purpose).</summary>
    Queued,
    /// <summary>Running at <see cref="JobState.SiteId"/>.</summary>
    Running,
    /// <summary>Checkpointed and stopped; its checkpoint lives at <see cref="JobState.SiteId"/>.</summary>
    Paused,
    /// <summary>Checkpoint in transfer to <see cref="JobState.SiteId"/>; no progress and no power until it lands.</summary>
    Relocating,
    Completed,
    Cancelled,
    Failed,
}

/// <summary>
/// The scheduling-relevant state of one job: what the policy reads and the lifecycle rewrites.
/// <see cref="SiteId"/> is the one site the job is bound to (running, paused there, or relocating to it), so a job
/// can never be at two sites. <see cref="Epoch"/> increases on every placement change.
/// <see cref="CheckpointReference"/> is the job's latest complete checkpoint taken by a site agent (null: none, or the
/// job never ran under an agent); <see cref="CheckpointPending"/> says one was asked for and has not arrived, so a
/// start elsewhere waits for it rather than restoring older state and repeating work.
/// </summary>
public sealed record JobState(
    JobSpec Spec,
    JobStatus Status,
    string? SiteId,
    double RemainingGpuHours,
    DateTimeOffset? LastTransitionAt,
    DateTimeOffset? TransferEndsAt,
    long Epoch,
    string? CheckpointReference = null,
    bool CheckpointPending = false)
{
    public static JobState Queued(JobSpec spec) =>
        new(spec, JobStatus.Queued, null, spec.WorkGpuHours, null, null, 0);

    public string Id => Spec.Id;

    /// <summary>Hours of work left at full speed.</summary>
    public double RemainingHours => RemainingGpuHours / Spec.Gpus;

    public bool IsTerminal => Status is JobStatus.Completed or JobStatus.Cancelled or JobStatus.Failed;

    /// <summary>True while the job holds GPUs at <see cref="SiteId"/> (running or relocating in).</summary>
    public bool HoldsGpus => Status is JobStatus.Running or JobStatus.Relocating;

    /// <summary>
    /// Time to spare before the deadline if the job ran flat out from <paramref name="now"/>, after
    /// <paramref name="extraHours"/> of delay (e.g. a transfer). <see cref="TimeSpan.MaxValue"/> without a deadline.
    /// </summary>
    public TimeSpan Slack(DateTimeOffset now, double extraHours = 0)
    {
        if (Spec.Deadline is not { } deadline) return TimeSpan.MaxValue;
        return deadline - now - TimeSpan.FromHours(RemainingHours + extraHours);
    }
}
