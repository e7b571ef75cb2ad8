namespace Scheduler.Core.Lifecycle;

using Scheduler.Core.Accounting;
using Scheduler.Core.Policy;

/// <summary>
/// The job state machine. Pure functions from a state and an event to the next state; an event that is not allowed
/// in the current state throws <see cref="InvalidJobTransitionException"/> and leaves nothing changed.
/// <code>
/// Queued ─place─▶ Running ◀─resume── Paused
///                 │  ▲  └──pause──────▲
///          relocate  transfer done
///                 ▼  │
///              Relocating
/// any non-terminal ─cancel─▶ Cancelled;  Running ─work done─▶ Completed;  any non-terminal ─fail─▶ Failed
/// </code>
/// </summary>
public static class JobLifecycle
{
    /// <summary>Applies a dispatch decision; a relocation takes its transfer time from the decision.</summary>
    public static JobState Apply(JobState job, Decision decision, DateTimeOffset now)
    {
        if (decision.JobId != job.Id)
            throw new ArgumentException($"decision for job '{decision.JobId}' applied to job '{job.Id}'", nameof(decision));
        return decision.Kind switch
        {
            DecisionKind.Place => Require(job, decision, JobStatus.Queued) with
            {
                Status = JobStatus.Running, SiteId = decision.ToSiteId, LastTransitionAt = now, Epoch = job.Epoch + 1,
            },
            DecisionKind.Relocate => Require(job, decision, JobStatus.Running) with
            {
                Status = JobStatus.Relocating,
                SiteId = decision.ToSiteId,
                LastTransitionAt = now,
                TransferEndsAt = now + TimeSpan.FromHours(decision.Relocation?.TransferHours ?? 0),
                Epoch = job.Epoch + 1,
            },
            DecisionKind.Pause => Require(job, decision, JobStatus.Running) with
            {
                Status = JobStatus.Paused, LastTransitionAt = now, Epoch = job.Epoch + 1,
            },
            DecisionKind.Resume when decision.ToSiteId == job.SiteId => Require(job, decision, JobStatus.Paused) with
            {
                Status = JobStatus.Running, LastTransitionAt = now, Epoch = job.Epoch + 1,
            },
            // Resuming somewhere else moves the checkpoint first.
            DecisionKind.Resume => Require(job, decision, JobStatus.Paused) with
            {
                Status = JobStatus.Relocating,
                SiteId = decision.ToSiteId,
                LastTransitionAt = now,
                TransferEndsAt = now + TimeSpan.FromHours(decision.Relocation?.TransferHours ?? 0),
                Epoch = job.Epoch + 1,
            },
            _ => throw new ArgumentOutOfRangeException(nameof(decision), decision.Kind, "unknown decision kind"),
        };
    }

    /// <summary>Lands a relocation whose transfer has finished by <paramref name="now"/>; otherwise returns the job unchanged.</summary>
    public static JobState CompleteTransfer(JobState job, DateTimeOffset now) =>
        job.Status == JobStatus.Relocating && job.TransferEndsAt is { } end && end <= now
            ? job with { Status = JobStatus.Running, TransferEndsAt = null }
            : job;

    /// <summary>Records <paramref name="gpuHours"/> of work done; completes the job when nothing is left.</summary>
    public static JobState Progress(JobState job, double gpuHours, DateTimeOffset now)
    {
        CheckProgress(job, gpuHours);
        return WithRemaining(job, job.RemainingGpuHours - gpuHours, now);
    }

    /// <summary>
    /// A site's count of the job's epoch after a step that did <paramref name="gpuHours"/> of work and drew
    /// <paramref name="energy"/>: the same rule as <see cref="Progress(JobState, double, DateTimeOffset)"/>, on the count
    /// alone, so that a site counting its jobs every step makes no new job each time. Crediting the count to the job
    /// (<see cref="Credit"/>) gives the job <c>Progress</c> gives.
    /// </summary>
    /// <param name="count">The site's count so far of the job's current epoch.</param>
    public static EpochProgress Progress(JobState job, EpochProgress count, double gpuHours, EnergyLedger energy)
    {
        CheckProgress(job, gpuHours);
        if (count.Epoch != job.Epoch)
            throw new ArgumentException($"count of epoch {count.Epoch} for job {job.Id} at epoch {job.Epoch}", nameof(count));
        var remaining = count.RemainingGpuHours - gpuHours;
        return new EpochProgress(job.Epoch, IsDone(remaining) ? 0 : remaining, count.Ledger + energy);
    }

    private static void CheckProgress(JobState job, double gpuHours)
    {
        if (job.Status != JobStatus.Running)
            throw new InvalidJobTransitionException(job, "progress", $"only a running job makes progress; job is {job.Status}");
        if (!(gpuHours >= 0) || !double.IsFinite(gpuHours))
            throw new ArgumentOutOfRangeException(nameof(gpuHours), gpuHours, "must be >= 0 and finite");
    }

    /// <summary>Below a millionth of a GPU-second the job is done; avoids a step of dust from float rounding.</summary>
    private static bool IsDone(double remainingGpuHours) => remainingGpuHours <= 1e-9;

    /// <summary>
    /// Credits a site's count of the job's current placement (<paramref name="report"/>) to the job and its ledger.
    /// The count is cumulative over the epoch, so a report told twice, late, out of order, or by a site that lost its
    /// latest steps (and counts them again) credits nothing twice: only a count further along than the one already
    /// credited changes anything. Reports of another epoch, or for a job not running, change nothing.
    /// </summary>
    /// <param name="ledger">The job's ledger, which includes what earlier credits of this epoch added.</param>
    /// <param name="credit">What was credited of the job's epoch so far, or null if nothing (of any epoch) was.</param>
    public static (JobState Job, EnergyLedger Ledger, EpochCredit? Credit) Credit(JobState job, EnergyLedger ledger, EpochCredit? credit,
        EpochProgress report, DateTimeOffset now)
    {
        if (job.Status != JobStatus.Running || report.Epoch != job.Epoch) return (job, ledger, credit);
        // The first report of an epoch is measured from the job as it was placed, and adds to the ledger it had then.
        var current = credit is { } c && c.Counted.Epoch == job.Epoch ? c : new EpochCredit(new EpochProgress(job.Epoch, job.RemainingGpuHours, default), ledger);
        if (!report.IsAheadOf(current.Counted)) return (job, ledger, credit);
        var next = current with { Counted = report };
        return (WithRemaining(job, report.RemainingGpuHours, now), next.LedgerBefore + report.Ledger, next);
    }

    private static JobState WithRemaining(JobState job, double remaining, DateTimeOffset now) =>
        IsDone(remaining)
            ? job with { RemainingGpuHours = 0, Status = JobStatus.Completed, LastTransitionAt = now }
            : job with { RemainingGpuHours = remaining };

    /// <summary>A site agent was asked to checkpoint the job where it ran: its next start waits for that checkpoint.</summary>
    public static JobState AwaitCheckpoint(JobState job) => job.IsTerminal ? job : job with { CheckpointPending = true };

    /// <summary>
    /// A checkpoint ordered at <paramref name="epoch"/> arrived. Taken while the job waits for one, or at its current
    /// epoch; otherwise ignored (a late report from a stale instance must not replace newer state). An empty reference
    /// (the checkpoint failed) only ends the wait: the next start restores the checkpoint before it.
    /// </summary>
    public static JobState RecordCheckpoint(JobState job, string? reference, long epoch)
    {
        if (job.IsTerminal || (!job.CheckpointPending && epoch < job.Epoch)) return job;
        return string.IsNullOrEmpty(reference)
            ? job with { CheckpointPending = false }
            : job with { CheckpointReference = reference, CheckpointPending = false };
    }

    /// <summary>
    /// The job's site lost it (its agent went away with the process): the job goes back to the queue, to be placed
    /// again, anywhere, and restored from its latest checkpoint. A checkpoint still pending will never come.
    /// </summary>
    public static JobState Lose(JobState job, DateTimeOffset now) =>
        !job.HoldsGpus
            ? throw new InvalidJobTransitionException(job, "lose", $"only a running or relocating job can be lost; job is {job.Status}")
            : job with { Status = JobStatus.Queued, SiteId = null, LastTransitionAt = now, TransferEndsAt = null, Epoch = job.Epoch + 1, CheckpointPending = false };

    public static JobState Cancel(JobState job, DateTimeOffset now) =>
        job.IsTerminal
            ? throw new InvalidJobTransitionException(job, "cancel", $"job is already {job.Status}")
            : job with { Status = JobStatus.Cancelled, LastTransitionAt = now, TransferEndsAt = null, Epoch = job.Epoch + 1 };

    public static JobState Fail(JobState job, DateTimeOffset now) =>
        job.IsTerminal
            ? throw new InvalidJobTransitionException(job, "fail", $"job is already {job.Status}")
            : job with { Status = JobStatus.Failed, LastTransitionAt = now, TransferEndsAt = null, Epoch = job.Epoch + 1 };

    private static JobState Require(JobState job, Decision decision, JobStatus expected)
    {
        if (job.Status != expected)
            throw new InvalidJobTransitionException(job, decision.Kind.ToString(), $"needs a {expected} job; job is {job.Status}");
        if (decision.ToSiteId is null)
            throw new ArgumentException($"{decision.Kind} decision without a target site", nameof(decision));
        return job;
    }
}

/// <summary>An event that the job's current state does not allow.</summary>
public sealed class InvalidJobTransitionException(JobState job, string transition, string why)
    : InvalidOperationException($"cannot {transition} job '{job.Id}': {why}")
{
    public JobStatus Status { get; } = job.Status;
}
