namespace Scheduler.Core.Lifecycle;

using Scheduler.Core.Accounting;

/// <summary>
/// What a job's placement has done so far, as the site that runs it counts it: cumulative over the placement's epoch,
/// so that a count told again (late, twice, or recounted after the site lost its latest steps) is recognised.
/// </summary>
/// <param name="Epoch">The placement counted.</param>
/// <param name="RemainingGpuHours">Work left after what the site has credited in this epoch, GPU-hours.</param>
/// <param name="Ledger">Energy, cost and tokens of the job in this epoch at the site.</param>
public readonly record struct EpochProgress(long Epoch, double RemainingGpuHours, EnergyLedger Ledger)
{
    /// <summary>Whether the count finishes the job's work (<see cref="JobLifecycle.Progress(JobState, EpochProgress, double, EnergyLedger)"/> counts dust as done).</summary>
    public bool IsComplete => RemainingGpuHours <= 0;

    /// <summary>
    /// Whether this count of the same epoch is further along than <paramref name="other"/>: less work left, or as
    /// much and more energy drawn (a job can draw power in a step that does no work, e.g. an agent's job starting).
    /// Within one site's steps both only grow, so this orders its counts as they were made.
    /// </summary>
    public bool IsAheadOf(EpochProgress other) =>
        RemainingGpuHours < other.RemainingGpuHours
        || (RemainingGpuHours == other.RemainingGpuHours && Ledger.ComputeMegawattHours > other.Ledger.ComputeMegawattHours);
}

/// <summary>What a job's record has credited of its current epoch.</summary>
/// <param name="Counted">The site's count last credited.</param>
/// <param name="LedgerBefore">The job's ledger before the epoch's first credit: the ledger is this plus <c>Counted.Ledger</c>.</param>
public readonly record struct EpochCredit(EpochProgress Counted, EnergyLedger LedgerBefore);
