namespace Scheduler.Core.Policy;

using Scheduler.Core.Lifecycle;
using Scheduler.Core.Model;

/// <summary>A forecast of a site's green supply at a time.</summary>
public readonly record struct ForecastPoint(DateTimeOffset At, double GreenSupplyMegawatts);

/// <summary>What the policy knows of one site at the start of a round.</summary>
/// <param name="Spec">Site configuration.</param>
/// <param name="GreenSupplyMegawatts">Current green supply from the site's plants (stale plants count 0), MW.</param>
/// <param name="OutsideCelsius">Outside temperature, for PUE.</param>
/// <param name="StateOfChargeMegawattHours">Battery energy, MWh.</param>
/// <param name="Forecast">Green supply forecast, ascending in time; empty when none.</param>
/// <param name="Available">False while the site cannot run jobs (its agent is gone): it offers no GPUs.</param>
/// <param name="HeldGpus">
/// GPUs held here by running or incoming jobs that the snapshot does not list, counted with their power as a total.
/// A starts-only round touches no running job, so it needs only this total, not 10,000 jobs to walk; nor does a round
/// at a site in surplus (0 where the snapshot lists the site's jobs).
/// </param>
public sealed record SiteSnapshot(
    SiteSpec Spec,
    double GreenSupplyMegawatts,
    double OutsideCelsius,
    double StateOfChargeMegawattHours,
    IReadOnlyList<ForecastPoint> Forecast,
    bool Available = true,
    int HeldGpus = 0)
{
    public SiteSnapshot(SiteSpec spec, double greenSupplyMegawatts, double outsideCelsius, double stateOfChargeMegawattHours)
        : this(spec, greenSupplyMegawatts, outsideCelsius, stateOfChargeMegawattHours, []) { }
}

/// <summary>
/// An immutable picture of one region: its sites, links and non-terminal jobs (or some of them, with the others as each
/// site's <see cref="SiteSnapshot.HeldGpus"/>: the waiting jobs for a starts-only round, the jobs bound at sites in
/// deficit for a round that relocates and pauses). Snapshots in, decisions out.
/// </summary>
public sealed record FleetSnapshot(
    DateTimeOffset Now,
    IReadOnlyList<SiteSnapshot> Sites,
    IReadOnlyList<LinkSpec> Links,
    IReadOnlyList<JobState> Jobs);
