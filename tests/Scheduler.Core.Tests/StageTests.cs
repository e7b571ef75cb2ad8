namespace Scheduler.Core.Tests;

using Scheduler.Core.Lifecycle;
using Scheduler.Core.Model;
using Scheduler.Core.Policy;
using Scheduler.Core.Policy.Filters;
using Scheduler.Core.Policy.Scorers;
using static Build;

/// <summary>Each filter and scorer alone, against a static candidate list.</summary>
public class StageTests
{
    private static readonly PolicyOptions Options = new();

    /// <summary>A site view with <paramref name="usedGpus"/> GPUs already running (1 kW each at PUE 1).</summary>
    private static SiteView View(SiteSpec spec, double greenMw, int usedGpus = 0, double socMwh = 0, int index = 0, params ForecastPoint[] forecast)
    {
        var view = new SiteView(Snapshot(spec, greenMw, socMwh, forecast), index);
        view.Commit(usedGpus, view.JobPowerMegawatts(usedGpus));
        return view;
    }

    private static Candidate At(JobState job, SiteView site, SiteView? from = null, RelocationCost? move = null, double sourceFraction = 0, double horizon = 6) =>
        new(job, site, from, T0, move, sourceFraction, horizon);

    private static readonly RelocationCost SmallMove = new(10, 0.1, 0.0001, 0.01);

    public static TheoryData<string, ISiteFilter, Func<Candidate>, bool> FilterCases()
    {
        var a = Site("a");
        var b = Site("b");
        var job = Queued(Job("j", gpus: 100));
        return new()
        {
            { "allowed: any site when list empty", new AllowedSitesFilter(), () => At(job, View(a, 10)), true },
            { "allowed: listed site passes", new AllowedSitesFilter(), () => At(Queued(Job("j", allowed: ["a"])), View(a, 10)), true },
            { "allowed: unlisted site rejected", new AllowedSitesFilter(), () => At(Queued(Job("j", allowed: ["b"])), View(a, 10)), false },
            { "relocatable: queued job passes", new RelocatableFilter(), () => At(Queued(Job("j", relocatable: false)), View(a, 10)), true },
            { "relocatable: pinned job stays", new RelocatableFilter(), () => { var v = View(a, 10); return At(Paused(Job("j", relocatable: false), "a"), v, from: v); }, true },
            { "relocatable: pinned job cannot move", new RelocatableFilter(), () => At(Paused(Job("j", relocatable: false), "b"), View(a, 10), from: View(b, 0, index: 1), move: SmallMove), false },
            { "capacity: enough GPUs", new CapacityFilter(Options), () => At(job, View(a, 10, usedGpus: 900)), true },
            { "capacity: too few GPUs", new CapacityFilter(Options), () => At(job, View(a, 10, usedGpus: 901)), false },
            { "capacity: power beyond green + battery + grid", new CapacityFilter(Options), () => At(job, View(Site("a", gridLimitMw: 0.05), 0)), false },
            { "deadline: no deadline", new DeadlineFilter(), () => At(job, View(a, 10), from: View(b, 0, index: 1), move: SmallMove), true },
            { "deadline: transfer fits in slack", new DeadlineFilter(), () => At(Running(Job("j", workGpuHours: 1000, deadline: T0.AddHours(10.2)), "b"), View(a, 10), View(b, 0, index: 1), SmallMove), true },
            { "deadline: transfer breaks a feasible deadline", new DeadlineFilter(), () => At(Running(Job("j", workGpuHours: 1000, deadline: T0.AddHours(10.05)), "b"), View(a, 10), View(b, 0, index: 1), SmallMove), false },
            { "deadline: already late everywhere runs best effort", new DeadlineFilter(), () => At(Running(Job("j", workGpuHours: 1000, deadline: T0.AddHours(9)), "b"), View(a, 10), View(b, 0, index: 1), SmallMove), true },
            { "green-surplus: surplus covers the job", new GreenSurplusFilter(Options), () => At(job, View(a, 0.1)), true },
            { "green-surplus: surplus covers part", new GreenSurplusFilter(Options), () => At(job, View(a, 0.09)), false },
            { "relocation-room: surplus carries the job", new RelocationRoomFilter(Options), () => At(job, View(a, 0.1), View(b, 0, index: 1), SmallMove), true },
            { "relocation-room: battery bridges what surplus lacks", new RelocationRoomFilter(Options), () => At(job, View(Site("a", battery: Battery()), 0.05, socMwh: 2), View(b, 0, index: 1), SmallMove), true },
            { "relocation-room: the grid does not count", new RelocationRoomFilter(Options), () => At(job, View(a, 0.05), View(b, 0, index: 1), SmallMove), false },
            { "relocation-gain: gain above margin", new RelocationGainFilter(Options), () => At(job, View(a, 1), View(b, 0, index: 1), SmallMove, sourceFraction: 0), true },
            { "relocation-gain: no gain when source already green", new RelocationGainFilter(Options), () => At(job, View(a, 1), View(b, 0, index: 1), SmallMove, sourceFraction: 1), false },
            { "relocation-gain: gain below margin", new RelocationGainFilter(Options), () => At(job, View(a, 1), View(b, 0, index: 1), new RelocationCost(500, 0.5, 0.005, 0.3), sourceFraction: 0, horizon: 0.3), false },
        };
    }

    [Theory]
    [MemberData(nameof(FilterCases))]
    public void Filter_PassesOrRejects_WithAReason(string name, ISiteFilter filter, Func<Candidate> candidate, bool passes)
    {
        var c = candidate();

        Assert.True(passes == filter.Passes(in c), name);
        if (!passes) Assert.False(string.IsNullOrWhiteSpace(filter.Reason(in c)), name);
    }

    [Fact]
    public void GreenHeadroomScorer_ScoresSurplusLeftAfterTheJob_InMegawatts()
    {
        var job = Queued(Job("j", gpus: 100));
        Assert.Equal(4.9, new GreenHeadroomScorer().Score(At(job, View(Site("a", gpus: 10000), 10, usedGpus: 5000))), 9);
    }

    [Fact]
    public void ForecastHeadroomScorer_AveragesForecastOverTheHorizon_AndFallsBackToCurrentSupply()
    {
        var job = Queued(Job("j", gpus: 100));
        ForecastPoint[] forecast = [new(T0.AddHours(1), 2), new(T0.AddHours(2), 4), new(T0.AddHours(30), 100)];
        var withForecast = View(Site("a"), 10, forecast: forecast);
        var without = View(Site("b"), 10);

        Assert.Equal(3 - 0.1, new ForecastHeadroomScorer().Score(At(job, withForecast)), 9);
        Assert.Equal(10 - 0.1, new ForecastHeadroomScorer().Score(At(job, without)), 9);
    }

    [Fact]
    public void BatteryStateScorer_ScoresEnergyAboveMinimum()
    {
        var site = Site("a", battery: Battery(capacityMwh: 10, min: 0.1));
        Assert.Equal(4, new BatteryStateScorer().Score(At(Queued(Job("j")), View(site, 0, socMwh: 5))), 9);
    }

    [Fact]
    public void RelocationCostScorer_PenalisesMoves_NotStaying()
    {
        var job = Paused(Job("j"), "b");
        var b = View(Site("b"), 0, index: 1);

        Assert.Equal(-SmallMove.TotalMegawattHours, new RelocationCostScorer().Score(At(job, View(Site("a"), 0), b, SmallMove)), 12);
        Assert.Equal(0, new RelocationCostScorer().Score(At(job, b, b)));
    }
}
