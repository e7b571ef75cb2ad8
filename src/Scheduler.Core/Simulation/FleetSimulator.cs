namespace Scheduler.Core.Simulation;

using Scheduler.Core.Accounting;
using Scheduler.Core.Lifecycle;
using Scheduler.Core.Model;
using Scheduler.Core.Policy;
using Scheduler.Core.Power;

/// <summary>Green supply and outside temperature of a site over time.</summary>
public interface ISiteConditions
{
    double GreenSupplyMegawatts(string siteId, DateTimeOffset at);
    double OutsideCelsius(string siteId, DateTimeOffset at);
}

/// <summary>What happened in one simulated step.</summary>
public sealed record SimulationStep(DateTimeOffset At, DispatchPlan Plan, IReadOnlyDictionary<string, SiteStepResult> Sites);

/// <summary>
/// An in-memory, single-threaded composition of the pure pieces (dispatcher, lifecycle, site step, accounting),
/// advancing a fleet in fixed steps. The running system does the same work spread over grains; this is for tests,
/// benchmarks and quick what-ifs. Each step: land finished transfers, decide, apply, run every site's power balance
/// and credit the work done.
/// </summary>
public sealed class FleetSimulator
{
    private readonly Dispatcher _dispatcher;
    private readonly ISiteConditions _conditions;
    private readonly IReadOnlyList<SiteSpec> _sites;
    private readonly IReadOnlyList<LinkSpec> _links;
    private readonly Dictionary<string, double> _greenPrice;
    private readonly Dictionary<string, JobState> _jobs = new(StringComparer.Ordinal);
    private readonly List<JobSpec> _pending = [];

    public FleetSimulator(IReadOnlyList<SiteSpec> sites, IReadOnlyList<PlantSpec> plants, IReadOnlyList<LinkSpec> links,
        ISiteConditions conditions, Dispatcher dispatcher, DateTimeOffset start, TimeSpan step)
    {
        if (step <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(step), step, "must be > 0");
        _sites = sites;
        _links = links;
        _conditions = conditions;
        _dispatcher = dispatcher;
        Now = start;
        Step = step;
        // A site's green price is its plants' nameplate-weighted price (the default when it has none).
        _greenPrice = sites.ToDictionary(s => s.Id, s =>
        {
            var own = plants.Where(p => p.SiteId == s.Id).ToList();
            var mw = own.Sum(p => p.NameplateMegawatts);
            return mw > 0 ? own.Sum(p => p.NameplateMegawatts * p.GreenPriceCnyPerKilowattHour) / mw : PlantSpec.DefaultGreenPriceCnyPerKilowattHour;
        }, StringComparer.Ordinal);
        StateOfCharge = sites.ToDictionary(s => s.Id, s => s.Battery.MinEnergyMegawattHours, StringComparer.Ordinal);
        SiteLedgers = sites.ToDictionary(s => s.Id, _ => default(EnergyLedger), StringComparer.Ordinal);
    }

    public DateTimeOffset Now { get; private set; }
    public TimeSpan Step { get; }
    public IReadOnlyDictionary<string, JobState> Jobs => _jobs;
    public Dictionary<string, double> StateOfCharge { get; }
    public Dictionary<string, EnergyLedger> SiteLedgers { get; }
    public Dictionary<string, EnergyLedger> JobLedgers { get; } = new(StringComparer.Ordinal);

    /// <summary>Submits a job; it enters the queue at its arrival time.</summary>
    public void Submit(JobSpec spec)
    {
        var errors = spec.Validate();
        if (errors.Count > 0) throw new ArgumentException($"invalid job '{spec.Id}': {string.Join("; ", errors)}", nameof(spec));
        if (_jobs.ContainsKey(spec.Id) || _pending.Any(p => p.Id == spec.Id)) throw new ArgumentException($"job '{spec.Id}' already exists", nameof(spec));
        _pending.Add(spec);
    }

    /// <summary>Runs one step and advances the clock.</summary>
    public SimulationStep Advance()
    {
        var now = Now;
        var hours = Step.TotalHours;
        for (var i = _pending.Count - 1; i >= 0; i--)
        {
            if (_pending[i].Arrival > now) continue;
            _jobs[_pending[i].Id] = JobState.Queued(_pending[i]);
            JobLedgers[_pending[i].Id] = default;
            _pending.RemoveAt(i);
        }
        foreach (var job in _jobs.Values.Where(j => j.Status == JobStatus.Relocating).ToList())
            _jobs[job.Id] = JobLifecycle.CompleteTransfer(job, now);

        var snapshot = new FleetSnapshot(now,
            _sites.Select(s => new SiteSnapshot(s, _conditions.GreenSupplyMegawatts(s.Id, now), _conditions.OutsideCelsius(s.Id, now), StateOfCharge[s.Id])).ToList(),
            _links,
            _jobs.Values.Where(j => !j.IsTerminal).ToList());
        var plan = _dispatcher.Decide(snapshot);
        foreach (var decision in plan.Decisions)
        {
            _jobs[decision.JobId] = JobLifecycle.Apply(_jobs[decision.JobId], decision, now);
            if (decision.Relocation is { } move)
            {
                var to = _sites.First(s => s.Id == decision.ToSiteId);
                JobLedgers[decision.JobId] += EnergyLedger.ForRelocation(move.Gigabytes, move.TransferEnergyMegawattHours, to.GridPriceCnyPerKilowattHour, to.GridCarbonKgPerKilowattHour);
            }
        }

        var running = _jobs.Values.Where(j => j.Status == JobStatus.Running).GroupBy(j => j.SiteId!).ToDictionary(g => g.Key, g => g.ToList());
        var results = new Dictionary<string, SiteStepResult>(StringComparer.Ordinal);
        foreach (var site in _sites)
        {
            var jobs = running.GetValueOrDefault(site.Id) ?? [];
            var loads = jobs.Select(j => new JobLoad(j.Id, j.Spec.Gpus, Math.Min(1, j.RemainingGpuHours / (j.Spec.Gpus * hours)), j.Spec.TokensPerGpuHour)).ToArray();
            var shares = new JobStepShare[loads.Length];
            var result = SiteStep.Run(site, snapshot.Sites.First(s => s.Spec.Id == site.Id).GreenSupplyMegawatts, _conditions.OutsideCelsius(site.Id, now),
                StateOfCharge[site.Id], _greenPrice[site.Id], loads, hours, shares);
            StateOfCharge[site.Id] = result.Balance.StateOfChargeMegawattHours;
            SiteLedgers[site.Id] += result.SiteLedger;
            foreach (var share in shares)
            {
                _jobs[share.JobId] = JobLifecycle.Progress(_jobs[share.JobId], share.GpuHours, now + Step);
                JobLedgers[share.JobId] += share.Ledger;
            }
            results[site.Id] = result;
        }
        Now = now + Step;
        return new SimulationStep(now, plan, results);
    }
}
