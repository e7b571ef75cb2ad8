namespace Scheduler.Benchmarks;

using BenchmarkDotNet.Attributes;
using Scheduler.Core.Accounting;
using Scheduler.Core.Model;
using Scheduler.Core.Policy;
using Scheduler.Core.Power;

/// <summary>The dispatcher round, the power balance step and the site step, on the deterministic <see cref="BenchmarkFleet"/>.</summary>
[MemoryDiagnoser]
public class SchedulerBenchmarks
{
    private Dispatcher _dispatcher = null!;
    private FleetSnapshot _snapshot = null!;
    private FleetSnapshot _steady = null!;
    private FleetSnapshot _deficit = null!;
    private PowerBalanceInput _balanceInput;
    private SiteSpec _stepSite = null!;
    private SiteSnapshot _stepSnapshot = null!;
    private double _stepGreenPrice;
    private JobLoad[] _stepJobs = [];
    private JobStepShare[] _stepShares = [];

    [GlobalSetup]
    public void Setup()
    {
        var fleet = BenchmarkFleet.Create();
        _snapshot = fleet.Snapshot;
        _dispatcher = new Dispatcher(new PolicyOptions());

        // The round must exercise every phase, or the benchmark measures the wrong thing.
        var plan = _dispatcher.Decide(_snapshot);
        PlanCounts.Of(plan).EnsureEveryKind();
        _steady = fleet.NextRound(plan, TimeSpan.FromMinutes(15));

        // A site in deficit with a battery to draw on: the discharge-then-import branch of the balance.
        var site = _snapshot.Sites[0];
        _balanceInput = new PowerBalanceInput(
            GreenSupplyMegawatts: 1.2,
            LoadMegawatts: 4.5,
            StateOfChargeMegawattHours: site.Spec.Battery.CapacityMegawattHours * 0.5,
            Battery: site.Spec.Battery,
            GridImportLimitMegawatts: site.Spec.GridImportLimitMegawatts,
            StepHours: 0.25);

        _deficit = DeficitRoundOf(_steady, fleet.SiteWithRunningJobsNearest(70).Spec.Id);
        if (_dispatcher.Decide(_deficit, RoundScope.Full).Decisions.Count == 0)
            throw new InvalidOperationException("the deficit round decides nothing: the benchmark would measure the wrong thing");

        _stepSnapshot = fleet.SiteWithRunningJobsNearest(70);
        _stepSite = _stepSnapshot.Spec;
        _stepGreenPrice = fleet.GreenPriceBySite[_stepSite.Id];
        _stepJobs = [.. fleet.RunningLoads(_stepSite.Id)];
        _stepShares = new JobStepShare[_stepJobs.Length];
    }

    /// <summary>One full dispatch round: relocate, pause, resume, place over 150 sites and 10,000 jobs.</summary>
    [Benchmark]
    public DispatchPlan FullRebalance() => _dispatcher.Decide(_snapshot);

    /// <summary>
    /// The round after <see cref="FullRebalance"/>: its plan applied, 15 minutes later, same supply. Most jobs are
    /// settled or in cooldown, so this is the cost of a quiet round at the same scale. (Not a target; for comparison.)
    /// </summary>
    [Benchmark]
    public DispatchPlan SteadyRebalance() => _dispatcher.Decide(_steady);

    /// <summary>
    /// A prompt round (<see cref="RoundScope.StartsOnly"/>) on the same snapshot as <see cref="SteadyRebalance"/>: what a
    /// new job or a supply rise costs between ticks, on the policy's side (docs/adr/0006-prompt-dispatch.md).
    /// </summary>
    [Benchmark]
    public DispatchPlan PromptRound() => _dispatcher.Decide(_steady, RoundScope.StartsOnly);

    /// <summary>
    /// A deficit round (docs/adr/0006-prompt-dispatch.md, item 10): one site of about 70 running jobs falls to 1 % of its
    /// supply, and the full policy runs on that site's jobs alone, every other site counted by the GPUs it holds, as the
    /// dispatcher grain runs it between ticks.
    /// </summary>
    [Benchmark]
    public DispatchPlan DeficitRound() => _dispatcher.Decide(_deficit, RoundScope.Full);

    /// <summary>The snapshot of a deficit round at <paramref name="siteId"/>: its supply cut to 1 %, its jobs alone, the others' as held GPUs.</summary>
    private static FleetSnapshot DeficitRoundOf(FleetSnapshot fleet, string siteId)
    {
        var held = fleet.Jobs.Where(j => j.HoldsGpus && j.SiteId != siteId)
            .GroupBy(j => j.SiteId!, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Sum(j => j.Spec.Gpus), StringComparer.Ordinal);
        return fleet with
        {
            Sites = [.. fleet.Sites.Select(s => s.Spec.Id == siteId
                ? s with { GreenSupplyMegawatts = s.GreenSupplyMegawatts * 0.01, StateOfChargeMegawattHours = s.Spec.Battery.MinEnergyMegawattHours }
                : s with { HeldGpus = held.GetValueOrDefault(s.Spec.Id) })],
            Jobs = [.. fleet.Jobs.Where(j => j.HoldsGpus && j.SiteId == siteId)],
        };
    }

    /// <summary>One microgrid balance step at one site.</summary>
    [Benchmark]
    public PowerBalanceResult PowerBalanceStep() => PowerBalance.Step(in _balanceInput);

    /// <summary>One accounting step of one site with ~70 running jobs: load, power balance, per-job energy split.</summary>
    [Benchmark]
    public SiteStepResult SiteStep() => Scheduler.Core.Accounting.SiteStep.Run(_stepSite, _stepSnapshot.GreenSupplyMegawatts,
        _stepSnapshot.OutsideCelsius, _stepSnapshot.StateOfChargeMegawattHours, _stepGreenPrice, _stepJobs, 0.25, _stepShares);
}
