namespace Scheduler.Scenarios;

using Scheduler.Core.Model;

/// <summary>
/// A scenario resolved to plain series: everything a replay and the offline optimum need, nothing read lazily.
/// Step <c>i</c> covers [<see cref="TimeAt"/>(i), <see cref="TimeAt"/>(i + 1)).
/// </summary>
/// <param name="Name">Scenario name (from the file).</param>
/// <param name="Start">First step's start (UTC).</param>
/// <param name="Step">Length of one step.</param>
/// <param name="Steps">Number of steps.</param>
/// <param name="Sites">The sites.</param>
/// <param name="Plants">The plants; each feeds one site.</param>
/// <param name="Links">Data links between sites.</param>
/// <param name="PlantMegawatts">Plant id → output at each step, MW (array length <see cref="Steps"/>, each in [0, nameplate]).</param>
/// <param name="SiteCelsius">Site id → outside temperature at each step, °C (array length <see cref="Steps"/>).</param>
/// <param name="Jobs">Every job, sorted by arrival then id; ids unique; arrivals in [Start, End).</param>
public sealed record LoadedScenario(
    string Name,
    DateTimeOffset Start,
    TimeSpan Step,
    int Steps,
    IReadOnlyList<SiteSpec> Sites,
    IReadOnlyList<PlantSpec> Plants,
    IReadOnlyList<LinkSpec> Links,
    IReadOnlyDictionary<string, double[]> PlantMegawatts,
    IReadOnlyDictionary<string, double[]> SiteCelsius,
    IReadOnlyList<JobSpec> Jobs)
{
    public DateTimeOffset End => Start + Step * Steps;

    public DateTimeOffset TimeAt(int step) => Start + Step * step;

    /// <summary>Green supply of a site at a step: the sum of its plants' output, MW.</summary>
    public double SiteGreenMegawatts(string siteId, int step)
    {
        var mw = 0.0;
        foreach (var plant in Plants)
            if (plant.SiteId == siteId) mw += PlantMegawatts[plant.Id][step];
        return mw;
    }

    /// <summary>
    /// The steps in [<paramref name="from"/>, <paramref name="to"/>) (clamped to the scenario), and the jobs arriving in them.
    /// </summary>
    public LoadedScenario Slice(DateTimeOffset from, DateTimeOffset to)
    {
        var first = (int)Math.Clamp(Math.Ceiling((from - Start) / Step), 0, Steps);
        var last = (int)Math.Clamp(Math.Ceiling((to - Start) / Step), first, Steps);
        var start = TimeAt(first);
        var end = TimeAt(last);
        return this with
        {
            Start = start,
            Steps = last - first,
            PlantMegawatts = PlantMegawatts.ToDictionary(kv => kv.Key, kv => kv.Value[first..last], StringComparer.Ordinal),
            SiteCelsius = SiteCelsius.ToDictionary(kv => kv.Key, kv => kv.Value[first..last], StringComparer.Ordinal),
            Jobs = Jobs.Where(j => j.Arrival >= start && j.Arrival < end).ToList(),
        };
    }
}
