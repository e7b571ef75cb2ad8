namespace Scheduler.Core.Policy.Filters;

using System.Globalization;

/// <summary>The job names the sites it may run at.</summary>
public sealed class AllowedSitesFilter : ISiteFilter
{
    public const string FilterName = "allowed-sites";
    public string Name => FilterName;
    public bool Passes(in Candidate c) => c.Job.Spec.AllowsSite(c.Site.Id);
    public string Reason(in Candidate c) => $"not in the job's allowed sites ({string.Join(", ", c.Job.Spec.AllowedSites)})";
}

/// <summary>A job that is not relocatable stays at the site it is bound to.</summary>
public sealed class RelocatableFilter : ISiteFilter
{
    public const string FilterName = "relocatable";
    public string Name => FilterName;
    public bool Passes(in Candidate c) => !c.ChangesSite || c.Job.Spec.Relocatable;
    public string Reason(in Candidate c) => $"job is not relocatable and is bound to {c.From?.Id}";
}

/// <summary>The site has the GPUs, and its power supply (green + battery + grid limit) can carry the job.</summary>
public sealed class CapacityFilter(PolicyOptions options) : ISiteFilter
{
    public const string FilterName = "capacity";
    private readonly double _bridgeHours = options.BatteryBridge.TotalHours;
    public string Name => FilterName;

    public bool Passes(in Candidate c) => c.FreeGpus >= c.Job.Spec.Gpus && c.JobPowerMegawatts <= PowerRoom(c);

    public string Reason(in Candidate c) => c.FreeGpus < c.Job.Spec.Gpus
        ? $"needs {c.Job.Spec.Gpus} GPUs, {c.FreeGpus} free"
        : string.Create(CultureInfo.InvariantCulture, $"needs {c.JobPowerMegawatts:0.###} MW, supply can carry {PowerRoom(c):0.###} MW more");

    private double PowerRoom(in Candidate c) =>
        c.HeadroomMegawatts + c.Site.BatterySustainableMegawatts(_bridgeHours) + c.Site.Spec.GridImportLimitMegawatts;
}

/// <summary>
/// Rejects a site when getting there (the checkpoint transfer) would make a feasible deadline infeasible.
/// A job already too late everywhere is not rejected: it runs best effort rather than never.
/// </summary>
public sealed class DeadlineFilter : ISiteFilter
{
    public const string FilterName = "deadline";
    public string Name => FilterName;

    public bool Passes(in Candidate c) =>
        c.Move is not { } move || c.Job.Spec.Deadline is null
        || c.Job.Slack(c.Now, move.TransferHours) >= TimeSpan.Zero || c.Job.Slack(c.Now) < TimeSpan.Zero;

    public string Reason(in Candidate c) => string.Create(CultureInfo.InvariantCulture,
        $"transfer of {c.Move?.TransferHours:0.##} h would miss the deadline (slack {c.Job.Slack(c.Now).TotalHours:0.##} h)");
}

/// <summary>
/// Temporal shifting: for a job that can wait, only a site whose surplus covers
/// <see cref="PolicyOptions.StartGreenFraction"/> of its power is worth starting at now.
/// </summary>
public sealed class GreenSurplusFilter(PolicyOptions options) : ISiteFilter
{
    public const string FilterName = "green-surplus";
    private readonly double _fraction = options.StartGreenFraction;
    public string Name => FilterName;
    public bool Passes(in Candidate c) => c.GreenFractionNow >= _fraction;
    public string Reason(in Candidate c) => string.Create(CultureInfo.InvariantCulture,
        $"surplus {Math.Max(0, c.HeadroomMegawatts):0.###} MW covers {c.GreenFractionNow:P0} of the job's {c.JobPowerMegawatts:0.###} MW, needs {_fraction:P0}");
}

/// <summary>
/// A move must leave its target able to carry the job on green supply and battery alone. A target the move pushed
/// further into deficit would have the same round pause a job there (see the dispatcher's pause step, which uses the
/// same bridge): one job's move displacing another's work, and the round's pauses no longer confined to the sites
/// that fell short.
/// </summary>
public sealed class RelocationRoomFilter(PolicyOptions options) : ISiteFilter
{
    public const string FilterName = "relocation-room";
    private readonly double _bridgeHours = options.BatteryBridge.TotalHours;
    public string Name => FilterName;

    public bool Passes(in Candidate c) => c.JobPowerMegawatts <= Room(c);

    public string Reason(in Candidate c) => string.Create(CultureInfo.InvariantCulture,
        $"needs {c.JobPowerMegawatts:0.###} MW, green surplus + battery bridge carry {Room(c):0.###} MW");

    private double Room(in Candidate c) => c.HeadroomMegawatts + c.Site.BatterySustainableMegawatts(_bridgeHours);
}

/// <summary>
/// Anti-flapping margin: a relocation must gain more green energy over the horizon than
/// <see cref="PolicyOptions.RelocationMarginFactor"/> times its cost.
/// </summary>
public sealed class RelocationGainFilter(PolicyOptions options) : ISiteFilter
{
    public const string FilterName = "relocation-gain";
    private readonly double _factor = options.RelocationMarginFactor;
    public string Name => FilterName;

    public bool Passes(in Candidate c) =>
        c.Move is { } move && c.ExpectedGreenGainMegawattHours > _factor * move.TotalMegawattHours;

    public string Reason(in Candidate c) => string.Create(CultureInfo.InvariantCulture,
        $"gain {c.ExpectedGreenGainMegawattHours:0.####} MWh is not above {_factor} × cost {c.Move?.TotalMegawattHours:0.####} MWh");
}
