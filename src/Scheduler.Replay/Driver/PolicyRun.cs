namespace Scheduler.Replay.Driver;

using System.Collections.Concurrent;
using Scheduler.Api.V1;
using Scheduler.Scenarios;
using CoreModel = Scheduler.Core.Model;

/// <summary>Where a job ended up: its state and the work it still had, GPU-hours.</summary>
public sealed record JobOutcome(JobState State, double RemainingGpuHours);

/// <summary>A policy's result, with every job's final state (by scenario job id).</summary>
public sealed record PolicyOutcome(PolicyResult Result, IReadOnlyDictionary<string, JobOutcome> Jobs);

/// <summary>
/// One policy's side of a replay: collects its sites' step results and where its jobs ran, then turns the ledger the
/// system kept into a <see cref="Scoreboard"/>.
/// </summary>
internal sealed class PolicyRun
{
    private readonly LoadedScenario _scenario;
    private readonly string _prefix;
    private readonly Dictionary<string, int> _siteIndex;
    private readonly double[][] _green, _load, _battery, _soc, _import, _curtail, _export;
    private readonly ConcurrentDictionary<string, CoreModel.JobSpec> _byServerId = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (string Site, int From)> _open = new(StringComparer.Ordinal);
    private readonly List<JobStint> _stints = [];

    public PolicyRun(string policy, LoadedScenario scenario)
    {
        Policy = policy;
        _scenario = scenario;
        _prefix = policy + ".";
        _siteIndex = scenario.Sites.Select((s, i) => (s.Id, i)).ToDictionary(x => x.Id, x => x.i, StringComparer.Ordinal);
        double[][] Series() => scenario.Sites.Select(_ => new double[scenario.Steps]).ToArray();
        (_green, _load, _battery, _soc, _import, _curtail, _export) = (Series(), Series(), Series(), Series(), Series(), Series(), Series());
    }

    public string Policy { get; }

    private int _late;

    public void Created(CoreModel.JobSpec job, string serverId) => _byServerId[serverId] = job;

    /// <summary>Jobs whose deadline passed before the system could learn of them: misses, never submitted.</summary>
    public void Late(IReadOnlyCollection<CoreModel.JobSpec> jobs) => _late = jobs.Count;

    /// <summary>Takes tick <paramref name="tick"/>'s site states: the step that closed at it, and who runs until the next.</summary>
    public void Record(int tick, IEnumerable<SiteStatus> sites)
    {
        var running = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var status in sites)
        {
            if (!status.Site.Id.StartsWith(_prefix, StringComparison.Ordinal)) continue;
            var i = _siteIndex[status.Site.Id[_prefix.Length..]];
            var step = tick - 1;
            if (step >= 0)
            {
                _green[i][step] = status.SteppedGreenSupplyMw;
                _load[i][step] = status.LoadMw;
                _battery[i][step] = status.BatteryMw;
                _soc[i][step] = status.StateOfChargeFraction;
                _import[i][step] = status.GridImportMw;
                _curtail[i][step] = status.CurtailmentMw;
                // Whatever green, battery and grid supplied beyond load and curtailment went out of the site: export.
                // Measured from the balance, not read from a field, so a leak in the power balance shows here.
                var residual = status.SteppedGreenSupplyMw + status.BatteryMw + status.GridImportMw - status.LoadMw - status.CurtailmentMw;
                _export[i][step] = Math.Abs(residual) < 1e-6 ? 0 : residual;
            }
            foreach (var job in status.Jobs)
                if (job.State == JobState.Running)
                {
                    // A job listed running at two sites would overwrite here; keep both by recording the clash as a stint each.
                    if (!running.TryAdd(job.JobId, status.Site.Id)) _stints.Add(new JobStint(job.JobId, status.Site.Id[_prefix.Length..], tick, tick + 1));
                }
        }
        if (tick >= _scenario.Steps) running.Clear();
        foreach (var (job, open) in _open.ToList())
            if (!running.TryGetValue(job, out var site) || site != open.Site)
            {
                _stints.Add(new JobStint(job, open.Site[_prefix.Length..], open.From, tick));
                _open.Remove(job);
            }
        foreach (var (job, site) in running)
            _open.TryAdd(job, (site, tick));
    }

    public PolicyOutcome Finish(EnergyReport report, IReadOnlyList<Job> jobs)
    {
        var hours = _scenario.Step.TotalHours;
        var sites = report.Sites.Where(l => l.Key.StartsWith(_prefix, StringComparison.Ordinal)).Select(l => l.Ledger).ToList();
        var mine = jobs.Where(j => _byServerId.ContainsKey(j.Id)).ToList();
        // In the scenario's job order: the server lists jobs as their concurrent creates landed, and a sum in that
        // order could differ between two runs of the same replay in the last digit.
        var ledgers = report.Jobs.Where(l => _byServerId.ContainsKey(l.Key)).OrderBy(l => _byServerId[l.Key].Id, StringComparer.Ordinal)
            .Select(l => l.Ledger).ToList();

        var greenAvailable = _scenario.Sites.Sum(s => Enumerable.Range(0, _scenario.Steps).Sum(i => _scenario.SiteGreenMegawatts(s.Id, i))) * hours;
        var greenUsed = sites.Sum(l => l.GreenMwh + l.BatteryMwh);
        var compute = sites.Sum(l => l.GreenMwh + l.BatteryMwh + l.GridMwh);
        var relocationMwh = ledgers.Sum(l => l.RelocationMwh);
        // Checkpoint transfers are priced as grid energy (as the system's ledger does), at the fleet's mean grid terms.
        var gridPrice = _scenario.Sites.Average(s => s.GridPriceCnyPerKilowattHour);
        var gridCarbon = _scenario.Sites.Average(s => s.GridCarbonKgPerKilowattHour);
        var tokens = ledgers.Sum(l => l.Tokens);

        // Completion is seen at the tick after the last step a job ran; a deadline counts at the step boundary after it.
        var lastStep = _stints.GroupBy(s => s.JobId).ToDictionary(g => g.Key, g => g.Max(s => s.ToStep), StringComparer.Ordinal);
        var completed = mine.Count(j => j.State == JobState.Completed);
        var misses = _late + mine.Count(j =>
        {
            var spec = _byServerId[j.Id];
            if (spec.Deadline is not { } deadline || deadline > _scenario.End) return false;
            var dueStep = (int)Math.Ceiling((deadline - _scenario.Start) / _scenario.Step);
            return j.State != JobState.Completed || lastStep.GetValueOrDefault(j.Id) > dueStep;
        });

        var scoreboard = new Scoreboard(
            GreenAvailableMWh: greenAvailable,
            GreenUsedMWh: greenUsed,
            GreenShare: compute > 0 ? greenUsed / compute : 0,
            CurtailedMWh: sites.Sum(l => l.CurtailedMwh),
            GridImportMWh: sites.Sum(l => l.GridMwh),
            ExportMWh: _export.Sum(s => s.Sum()) * hours,
            BatteryThroughputMWh: sites.Sum(l => l.BatteryMwh),
            DeadlineMisses: misses,
            CompletedJobs: completed,
            Relocations: ledgers.Sum(l => l.Relocations),
            RelocatedGB: ledgers.Sum(l => l.RelocatedGb),
            RelocationMWh: relocationMwh,
            CostCny: sites.Sum(l => l.CostCny) + relocationMwh * 1000 * gridPrice,
            Co2Kg: sites.Sum(l => l.Co2EmittedKg) + relocationMwh * 1000 * gridCarbon,
            TokensPerKwh: compute + relocationMwh > 0 ? tokens / ((compute + relocationMwh) * 1000) : 0);

        var series = _scenario.Sites.Select((s, i) => new SiteSeries(s.Id, _green[i], _load[i], _battery[i], _soc[i], _import[i], _curtail[i], _export[i])).ToList();
        // Stints under the scenario's job ids, so reports and tests speak the scenario's language.
        var stints = _stints.Select(s => s with { JobId = _byServerId.TryGetValue(s.JobId, out var spec) ? spec.Id : s.JobId })
            .OrderBy(s => s.JobId, StringComparer.Ordinal).ThenBy(s => s.FromStep).ToList();
        var outcomes = mine.ToDictionary(j => _byServerId[j.Id].Id, j => new JobOutcome(j.State, j.RemainingGpuHours), StringComparer.Ordinal);
        return new PolicyOutcome(new PolicyResult(Policy, scoreboard, series, stints), outcomes);
    }
}
