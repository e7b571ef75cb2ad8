namespace Scheduler.Core.Policy;

/// <summary>Tuning of the placement and relocation policy. Defaults suit hourly-to-minutely dispatch rounds.</summary>
public sealed class PolicyOptions
{
    /// <summary>Weight of <see cref="Scorers.GreenHeadroomScorer"/>. Default: 0.4.</summary>
    public double GreenHeadroomWeight { get; set; } = 0.4;

    /// <summary>Weight of <see cref="Scorers.ForecastHeadroomScorer"/>. Default: 0.3.</summary>
    public double ForecastHeadroomWeight { get; set; } = 0.3;

    /// <summary>Weight of <see cref="Scorers.BatteryStateScorer"/>. Default: 0.1.</summary>
    public double BatteryStateWeight { get; set; } = 0.1;

    /// <summary>Weight of <see cref="Scorers.RelocationCostScorer"/>. Default: 0.2.</summary>
    public double RelocationCostWeight { get; set; } = 0.2;

    /// <summary>
    /// A relocation happens only if the expected green energy gained is at least this many times its cost
    /// (transfer energy + the job's power over the transfer time). Default: 1.5.
    /// </summary>
    public double RelocationMarginFactor { get; set; } = 1.5;

    /// <summary>After any change of state, a job is not voluntarily relocated or paused again for this long. Default: 1 hour.</summary>
    public TimeSpan Cooldown { get; set; } = TimeSpan.FromHours(1);

    /// <summary>How far ahead the green energy gained by a move is counted (capped at the job's remaining time). Default: 6 hours.</summary>
    public TimeSpan GainHorizon { get; set; } = TimeSpan.FromHours(6);

    /// <summary>Fixed time to restore a checkpoint after its transfer. Default: 2 minutes.</summary>
    public TimeSpan RestoreOverhead { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>Energy to move one GB of checkpoint between sites, kWh. Default: 0.01.</summary>
    public double TransferKilowattHoursPerGigabyte { get; set; } = 0.01;

    /// <summary>
    /// A job whose slack (time to deadline minus remaining run time) falls to this runs now, on grid power if need be.
    /// Default: 3 hours (replays of the shipped scenarios: 1 hour left jobs competing for GPUs at the last moment and
    /// missed more deadlines, 3 hours missed fewer and used as much green energy; see docs/results.md).
    /// </summary>
    public TimeSpan DeadlineGuard { get; set; } = TimeSpan.FromHours(3);

    /// <summary>An interruptible job starts or resumes only where green surplus covers at least this fraction of its power. Default: 1.0.</summary>
    public double StartGreenFraction { get; set; } = 1.0;

    /// <summary>
    /// A site pauses jobs only when its deficit exceeds what the battery can sustain for this long.
    /// Larger values pause sooner and keep more battery in reserve. Default: 1 hour.
    /// </summary>
    public TimeSpan BatteryBridge { get; set; } = TimeSpan.FromHours(1);

    /// <summary>An interruptible job without a deadline waits for surplus at most this long after arrival. Default: 24 hours.</summary>
    public TimeSpan MaxQueueWait { get; set; } = TimeSpan.FromHours(24);

    /// <summary>
    /// Whether the policy acts on green power at all: relocates towards surplus, pauses on deficit and lets jobs wait
    /// for surplus. Off, it is a carbon-blind batch scheduler: every job starts as soon as GPUs are free, at the least
    /// loaded site, and is paused only on a physical shortfall. Default: true.
    /// </summary>
    public bool GreenAware { get; set; } = true;

    /// <summary>Whether the plants' forecasts are read; off, every site's supply is assumed to stay as it is now. Default: true.</summary>
    public bool UseForecast { get; set; } = true;

    /// <summary>The named policies a region can run (<see cref="ForPolicy"/>).</summary>
    public static IReadOnlyList<string> PolicyNames { get; } = [SchedulerPolicy, GreedyPolicy, AgnosticPolicy];

    /// <summary>Ours: these options as configured.</summary>
    public const string SchedulerPolicy = "scheduler";

    /// <summary>Follows the current surplus: no forecast, no relocation margin, no cooldown, green headroom only.</summary>
    public const string GreedyPolicy = "greedy";

    /// <summary>Carbon-blind: least-loaded placement, no relocation, no waiting (<see cref="GreenAware"/> off).</summary>
    public const string AgnosticPolicy = "agnostic";

    /// <summary>
    /// The options of a named policy, derived from these (so costs such as transfer energy and the deadline guard stay
    /// the same and only the behaviour differs). Throws <see cref="ArgumentException"/> for an unknown name.
    /// </summary>
    public PolicyOptions ForPolicy(string name)
    {
        var o = (PolicyOptions)MemberwiseClone();
        switch (name)
        {
            case SchedulerPolicy:
                return o;
            case GreedyPolicy:
                o.UseForecast = false;
                o.RelocationMarginFactor = 1;
                o.Cooldown = TimeSpan.Zero;
                (o.GreenHeadroomWeight, o.ForecastHeadroomWeight, o.BatteryStateWeight, o.RelocationCostWeight) = (1, 0, 0, 0);
                return o;
            case AgnosticPolicy:
                o.GreenAware = false;
                o.UseForecast = false;
                return o;
            default:
                throw new ArgumentException($"policy: unknown policy '{name}'; known: {string.Join(", ", PolicyNames)}", nameof(name));
        }
    }

    /// <summary>Returns the configuration errors (empty when valid).</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        void NonNegative(string name, double v) { if (!(v >= 0) || !double.IsFinite(v)) errors.Add($"{name}: must be >= 0 and finite, was {v}"); }
        void Positive(string name, TimeSpan v) { if (v <= TimeSpan.Zero) errors.Add($"{name}: must be > 0, was {v}"); }
        NonNegative(nameof(GreenHeadroomWeight), GreenHeadroomWeight);
        NonNegative(nameof(ForecastHeadroomWeight), ForecastHeadroomWeight);
        NonNegative(nameof(BatteryStateWeight), BatteryStateWeight);
        NonNegative(nameof(RelocationCostWeight), RelocationCostWeight);
        if (GreenHeadroomWeight + ForecastHeadroomWeight + BatteryStateWeight + RelocationCostWeight <= 0)
            errors.Add("weights: at least one scorer weight must be > 0");
        if (!(RelocationMarginFactor >= 1) || !double.IsFinite(RelocationMarginFactor)) errors.Add($"{nameof(RelocationMarginFactor)}: must be >= 1, was {RelocationMarginFactor}");
        if (Cooldown < TimeSpan.Zero) errors.Add($"{nameof(Cooldown)}: must be >= 0, was {Cooldown}");
        Positive(nameof(GainHorizon), GainHorizon);
        if (RestoreOverhead < TimeSpan.Zero) errors.Add($"{nameof(RestoreOverhead)}: must be >= 0, was {RestoreOverhead}");
        NonNegative(nameof(TransferKilowattHoursPerGigabyte), TransferKilowattHoursPerGigabyte);
        if (DeadlineGuard < TimeSpan.Zero) errors.Add($"{nameof(DeadlineGuard)}: must be >= 0, was {DeadlineGuard}");
        if (!(StartGreenFraction is >= 0 and <= 1)) errors.Add($"{nameof(StartGreenFraction)}: must be in [0, 1], was {StartGreenFraction}");
        Positive(nameof(BatteryBridge), BatteryBridge);
        Positive(nameof(MaxQueueWait), MaxQueueWait);
        return errors;
    }
}
