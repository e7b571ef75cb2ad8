namespace Scheduler.Core.Policy;

using Scheduler.Core.Policy.Filters;
using Scheduler.Core.Policy.Scorers;

/// <summary>
/// Wires the stages into the three pipelines the dispatcher uses. This is the one place where stage order lives.
/// </summary>
public sealed class PipelineStack
{
    public PipelineStack(PolicyOptions options)
    {
        // Scorers are the same everywhere; only the filters differ by what the job is asking for.
        // A carbon-blind policy only spreads load.
        (ISiteScorer, double)[] scorers = options.GreenAware
            ?
            [
                (new GreenHeadroomScorer(), options.GreenHeadroomWeight),
                (new ForecastHeadroomScorer(), options.ForecastHeadroomWeight),
                (new BatteryStateScorer(), options.BatteryStateWeight),
                (new RelocationCostScorer(), options.RelocationCostWeight),
            ]
            : [(new LeastLoadedScorer(), 1)];

        // Hard constraints come first and cheapest first: allowed sites and relocatability are lookups, and capacity
        // precedes deadline because a full site is the common rejection at scale. Sites without a link from where a
        // job is bound are not candidates at all (the dispatcher passes only reachable sites), so no filter for them.
        ISiteFilter[] hard = [new AllowedSitesFilter(), new RelocatableFilter(), new CapacityFilter(options), new DeadlineFilter()];

        // A job that must run now (deadline guard, not interruptible, waited too long) takes the best feasible site,
        // green or not.
        Urgent = new SitePipeline("start-urgent", hard, scorers);

        // A job that can wait starts only where surplus covers it; the green filter is last so that the explanation
        // of a waiting job shows which sites were feasible but lacked surplus.
        Flexible = new SitePipeline("start-flexible", [.. hard, new GreenSurplusFilter(options)], scorers);

        // A running job moves only where green and battery carry it now (no job there pauses for it), and only if
        // the move pays for itself with margin; the gain filter is last because it reads the forecast, the most
        // expensive check.
        Relocation = new SitePipeline("relocate", [.. hard, new RelocationRoomFilter(options), new RelocationGainFilter(options)], scorers);
    }

    public SitePipeline Urgent { get; }
    public SitePipeline Flexible { get; }
    public SitePipeline Relocation { get; }
}
