namespace Scheduler.Core.Policy;

/// <summary>What the dispatcher tells a job to do.</summary>
public enum DecisionKind
{
    /// <summary>Start a queued job at a site.</summary>
    Place,
    /// <summary>Move a running job: checkpoint, transfer, restore at another site.</summary>
    Relocate,
    /// <summary>Checkpoint and stop a running job where it is.</summary>
    Pause,
    /// <summary>Start a paused job again (at its checkpoint's site, or elsewhere via a transfer).</summary>
    Resume,
}

/// <summary>Why a decision was made, as a stable machine-readable code.</summary>
public static class DecisionReasons
{
    /// <summary>The chosen site's green surplus covers the job.</summary>
    public const string GreenSurplus = "green-surplus";
    /// <summary>No site had surplus, but the job cannot wait (not interruptible, or waited too long): best site wins.</summary>
    public const string CannotWait = "cannot-wait";
    /// <summary>A carbon-blind policy starts every job as soon as GPUs are free (<see cref="PolicyOptions.GreenAware"/> off).</summary>
    public const string CarbonBlind = "carbon-blind";
    /// <summary>The deadline is near: run on battery or grid rather than miss it.</summary>
    public const string DeadlineGuard = "deadline-guard";
    /// <summary>The source site is in deficit and the destination's surplus gains more green energy than the move costs.</summary>
    public const string RelocateToSurplus = "relocate-to-surplus";
    /// <summary>The site's deficit exceeds what its battery can bridge; the job has slack to wait.</summary>
    public const string DeficitBeyondBattery = "deficit-beyond-battery";
    /// <summary>The site's load exceeds green + battery + grid limit: load must be shed.</summary>
    public const string Shortfall = "shortfall";
}

/// <summary>A relocation's cost: checkpoint moved, transfer time, energy.</summary>
/// <param name="Gigabytes">Checkpoint size moved, GB.</param>
/// <param name="TransferHours">Checkpoint size / link bandwidth + restore overhead, hours. The job makes no progress meanwhile.</param>
/// <param name="TransferEnergyMegawattHours">Network and storage energy of the move, MWh.</param>
/// <param name="LostComputeMegawattHours">The job's power × transfer time: work that must still be done later, MWh.</param>
public readonly record struct RelocationCost(double Gigabytes, double TransferHours, double TransferEnergyMegawattHours, double LostComputeMegawattHours)
{
    public double TotalMegawattHours => TransferEnergyMegawattHours + LostComputeMegawattHours;
}

/// <summary>One scorer's view of one candidate site: raw value in the scorer's unit, and its 0..100 normalised score.</summary>
public readonly record struct StageScore(string Scorer, double Raw, double Normalised);

/// <summary>How one candidate site fared: its surplus (green − load, MW) when evaluated, and either the filter that
/// rejected it (with why) or what every scorer gave it.</summary>
public sealed record CandidateEvaluation(string SiteId, double SurplusMegawatts, string? RejectedBy, string? Rejection, IReadOnlyList<StageScore> Scores, double TotalScore)
{
    public bool Passed => RejectedBy is null;
}

/// <summary>A dispatch decision with its full explanation.</summary>
/// <param name="Kind">What to do.</param>
/// <param name="JobId">The job.</param>
/// <param name="FromSiteId">Where the job is now (null for a queued job).</param>
/// <param name="ToSiteId">Where it will be (for a pause, the site where it stays checkpointed).</param>
/// <param name="Reason">One of <see cref="DecisionReasons"/>.</param>
/// <param name="Detail">A human sentence with the numbers behind the reason.</param>
/// <param name="Candidates">Every site considered, with its rejection or scores (empty for pauses).</param>
/// <param name="Relocation">Cost of the move, when the job changes site.</param>
/// <param name="ExpectedGreenGainMegawattHours">Green energy the decision is expected to gain for the job, MWh.</param>
public sealed record Decision(
    DecisionKind Kind,
    string JobId,
    string? FromSiteId,
    string ToSiteId,
    string Reason,
    string Detail,
    IReadOnlyList<CandidateEvaluation> Candidates,
    RelocationCost? Relocation,
    double ExpectedGreenGainMegawattHours);

/// <summary>Why a job was left waiting this round, as a stable machine-readable code.</summary>
public static class DeferralReasons
{
    /// <summary>The job can wait, and no candidate site's surplus covers it now (temporal shifting).</summary>
    public const string WaitingForSurplus = "waiting-for-surplus";
    /// <summary>No site has enough free GPUs for the job.</summary>
    public const string NoCapacity = "no-capacity";
    /// <summary>Every candidate site was rejected by a filter.</summary>
    public const string NoFeasibleSite = "no-feasible-site";
}

/// <summary>A job left where it is this round, and why (one of <see cref="DeferralReasons"/>).</summary>
public readonly record struct Deferral(string JobId, string Reason);

/// <summary>The outcome of one dispatch round.</summary>
public sealed record DispatchPlan(IReadOnlyList<Decision> Decisions, IReadOnlyList<Deferral> Deferrals)
{
    public static DispatchPlan Empty { get; } = new([], []);
}
