namespace Scheduler.Core.Policy;

using System.Globalization;
using Scheduler.Core.Lifecycle;
using Scheduler.Core.Model;

/// <summary>What a round may decide.</summary>
public enum RoundScope
{
    /// <summary>All five phases: starts, relocations and pauses.</summary>
    Full,

    /// <summary>Only starts: urgent jobs, resumes and placements.</summary>
    StartsOnly,
}

/// <summary>
/// The scheduling policy of one region: reads a <see cref="FleetSnapshot"/>, returns a <see cref="DispatchPlan"/>.
/// Pure business logic; the caller applies the decisions. Not thread-safe (it reuses scratch buffers).
/// </summary>
/// <remarks>
/// One round runs five phases, in this order:
/// <list type="number">
/// <item>Start what cannot wait: queued and paused jobs at their deadline guard or not interruptible, most urgent
///   first. First, so that nothing moving in for green power takes the GPUs a job needs to meet its deadline (pinned
///   inference, for one, can run nowhere else).</item>
/// <item>Relocate: running relocatable jobs leave sites in deficit for sites whose surplus and battery carry them,
///   when the move pays. Before pausing, because a move keeps a job making progress on green power.</item>
/// <item>Pause: where the deficit still exceeds what the battery can bridge, interruptible jobs with slack pause;
///   on a physical shortfall, any interruptible job pauses.</item>
/// <item>Resume: the other paused jobs, most urgent first, where surplus returned.
///   Before placement, because paused jobs have waited longer and hold progress.</item>
/// <item>Place: the other queued jobs, most urgent first; they wait for surplus.</item>
/// </list>
/// Every phase updates the site views, so no site is given more GPUs than it has.
/// </remarks>
public sealed class Dispatcher
{
    private readonly PolicyOptions _options;
    private readonly PipelineStack _stack;
    private readonly double _gainHorizonHours;
    private readonly double _bridgeHours;
    private Topology? _topology;

    public Dispatcher(PolicyOptions options)
    {
        var errors = options.Validate();
        if (errors.Count > 0) throw new ArgumentException("invalid policy options: " + string.Join("; ", errors), nameof(options));
        _options = options;
        _stack = new PipelineStack(options);
        _gainHorizonHours = options.GainHorizon.TotalHours;
        _bridgeHours = options.BatteryBridge.TotalHours;
    }

    public PolicyOptions Options => _options;

    /// <param name="fleet">The region as it is now.</param>
    /// <param name="scope">
    /// <see cref="RoundScope.StartsOnly"/> skips relocation and pauses: a round that only gives waiting jobs GPUs, for
    /// a new job or a site's supply rise between ticks. It touches no running job, so no progress report in flight
    /// can race it.
    /// </param>
    public DispatchPlan Decide(FleetSnapshot fleet, RoundScope scope = RoundScope.Full)
    {
        _topology = Topology.Of(fleet, _topology);
        var round = new Round(fleet, _options, _topology);
        // Jobs that cannot wait (near their deadline, not interruptible) get GPUs before anything moves in.
        Start(round, [.. round.Paused.Concat(round.Queued).Where(j => !round.CanWait(j))]);
        if (scope == RoundScope.Full)
        {
            if (_options.GreenAware) Relocate(round);
            Pause(round);
        }
        Start(round, [.. round.Paused.Where(j => !round.Handled(j))]);
        Start(round, [.. round.Queued.Where(j => !round.Handled(j))]);
        return new DispatchPlan(round.Decisions, round.Deferrals);
    }

    private void Relocate(Round round)
    {
        if (!round.AnySurplus()) return;
        foreach (var from in round.Sites.Where(s => s.HeadroomMegawatts < 0).OrderBy(s => s.HeadroomMegawatts).ToList())
        {
            var reachable = round.Reachable(from);
            foreach (var job in round.RunningAt(from)
                         .Where(j => j.Status == JobStatus.Running && j.Spec.Relocatable && !round.InCooldown(j))
                         .OrderByDescending(j => j.Spec.Gpus).ThenBy(j => j.Id, StringComparer.Ordinal).ToList())
            {
                if (from.HeadroomMegawatts >= 0) break;
                var power = from.JobPowerMegawatts(job.Spec.Gpus);
                var horizon = Math.Min(job.RemainingHours, _gainHorizonHours);
                // The job's own power is in the source's load: its green share is what the forecast surplus would be without it.
                var sourceFraction = Math.Clamp((from.MeanForecastSupplyMegawatts(round.Now, horizon) - from.LoadMegawatts + power) / power, 0, 1);
                // Skip the evaluation when no reachable site could give this job more green than it has: cheap and exact.
                if (BestPossibleFraction(reachable, from, job.Spec.Gpus) <= sourceFraction) continue;
                var pipeline = _stack.Relocation;
                var to = pipeline.Evaluate(job, from, reachable, from, round.Now, round.MoveCost, sourceFraction, horizon);
                if (to is null) continue;
                var c = pipeline.CandidateFor(to);
                var move = c.Move!.Value;
                round.Decide(new Decision(DecisionKind.Relocate, job.Id, from.Id, to.Id, DecisionReasons.RelocateToSurplus,
                    string.Create(CultureInfo.InvariantCulture, $"{from.Id} in deficit ({from.HeadroomMegawatts:0.###} MW); {to.Id} surplus covers {c.GreenFractionForecast:P0} vs {sourceFraction:P0}; gain {c.ExpectedGreenGainMegawattHours:0.###} MWh over {horizon:0.#} h > {_options.RelocationMarginFactor} × cost {move.TotalMegawattHours:0.###} MWh"),
                    pipeline.Explain(), move, c.ExpectedGreenGainMegawattHours));
                from.Release(job.Spec.Gpus, power);
                to.Commit(job.Spec.Gpus, c.JobPowerMegawatts);
            }
        }
    }

    /// <summary>An upper bound of the green share any of <paramref name="sites"/> (but <paramref name="exclude"/>) could give a job of that size.</summary>
    private static double BestPossibleFraction(IReadOnlyList<SiteView> sites, SiteView? exclude, int gpus)
    {
        double best = 0;
        for (var i = 0; i < sites.Count; i++)
        {
            var s = sites[i];
            if (ReferenceEquals(s, exclude) || s.FreeGpus < gpus) continue;
            best = Math.Max(best, Math.Clamp((s.PeakSupplyMegawatts - s.LoadMegawatts) / s.JobPowerMegawatts(gpus), 0, 1));
            if (best >= 1) break;
        }
        return best;
    }

    private void Pause(Round round)
    {
        foreach (var site in round.Sites)
        {
            if (site.HeadroomMegawatts >= 0) continue;
            var bridge = site.BatterySustainableMegawatts(_bridgeHours);
            double Gap() => -site.HeadroomMegawatts - bridge;
            double Shortfall() => Gap() - site.Spec.GridImportLimitMegawatts;
            if (Gap() <= 0) continue;

            // Voluntary pauses (jobs with slack, out of cooldown) first; a physical shortfall then sheds any interruptible job.
            var running = round.RunningAt(site).Where(j => j.Status == JobStatus.Running && j.Spec.Interruptible && !round.Moved(j)).ToList();
            var voluntary = running.Where(j => round.CanWait(j) && !round.InCooldown(j))
                .OrderByDescending(j => j.Spec.Gpus).ThenBy(j => j.Id, StringComparer.Ordinal).ToList();
            foreach (var job in voluntary)
            {
                if (Gap() <= 0) break;
                PauseJob(round, site, job, DecisionReasons.DeficitBeyondBattery,
                    string.Create(CultureInfo.InvariantCulture, $"{site.Id} deficit {-site.HeadroomMegawatts:0.###} MW exceeds battery bridge {bridge:0.###} MW; slack {Hours(job.Slack(round.Now))}"));
            }
            if (Shortfall() <= 0) continue;
            foreach (var job in running.Where(j => !round.Moved(j)).OrderBy(j => j.Slack(round.Now)).Reverse().ToList())
            {
                if (Shortfall() <= 0) break;
                PauseJob(round, site, job, DecisionReasons.Shortfall,
                    string.Create(CultureInfo.InvariantCulture, $"{site.Id} load exceeds green + battery {bridge:0.###} MW + grid limit {site.Spec.GridImportLimitMegawatts:0.###} MW by {Shortfall():0.###} MW"));
            }
        }
    }

    private static void PauseJob(Round round, SiteView site, JobState job, string reason, string detail)
    {
        round.Decide(new Decision(DecisionKind.Pause, job.Id, site.Id, site.Id, reason, detail, [], null, 0));
        site.Release(job.Spec.Gpus, site.JobPowerMegawatts(job.Spec.Gpus));
    }

    private void Start(Round round, List<JobState> jobs)
    {
        // Most urgent first: least slack, then first come, then id for determinism.
        jobs.Sort((a, b) =>
        {
            var c = a.Slack(round.Now).CompareTo(b.Slack(round.Now));
            if (c != 0) return c;
            c = a.Spec.Arrival.CompareTo(b.Spec.Arrival);
            return c != 0 ? c : string.CompareOrdinal(a.Id, b.Id);
        });
        var maxFree = round.MaxFreeGpus();
        foreach (var job in jobs)
        {
            if (job.Spec.Gpus > maxFree) { round.Defer(job, DeferralReasons.NoCapacity); continue; }
            var from = job.SiteId is null ? null : round.Site(job.SiteId);
            var candidates = from is null ? round.Sites : round.Reachable(from);
            var canWait = round.CanWait(job);
            // A job that can wait skips evaluation while no candidate could cover it with surplus: the common case at night.
            if (canWait && BestPossibleFraction(candidates, null, job.Spec.Gpus) < _options.StartGreenFraction)
            {
                round.Defer(job, DeferralReasons.WaitingForSurplus);
                continue;
            }
            var pipeline = canWait ? _stack.Flexible : _stack.Urgent;
            var horizon = Math.Min(job.RemainingHours, _gainHorizonHours);
            var to = pipeline.Evaluate(job, from, candidates, null, round.Now, round.MoveCost, 0, horizon);
            if (to is null)
            {
                round.Defer(job, canWait ? DeferralReasons.WaitingForSurplus : DeferralReasons.NoFeasibleSite);
                continue;
            }
            var c = pipeline.CandidateFor(to);
            var reason = canWait ? DecisionReasons.GreenSurplus
                : round.MustRunNow(job) ? DecisionReasons.DeadlineGuard
                : _options.GreenAware ? DecisionReasons.CannotWait : DecisionReasons.CarbonBlind;
            var kind = job.Status == JobStatus.Queued ? DecisionKind.Place : DecisionKind.Resume;
            round.Decide(new Decision(kind, job.Id, job.SiteId, to.Id, reason,
                string.Create(CultureInfo.InvariantCulture, $"{to.Id}: surplus covers {c.GreenFractionNow:P0} of {c.JobPowerMegawatts:0.###} MW; slack {Hours(job.Slack(round.Now))}"),
                pipeline.Explain(), c.ChangesSite ? c.Move : null, c.GreenFractionForecast * c.JobPowerMegawatts * horizon));
            to.Commit(job.Spec.Gpus, c.JobPowerMegawatts);
            maxFree = round.MaxFreeGpus();
        }
    }

    private static string Hours(TimeSpan slack) =>
        slack == TimeSpan.MaxValue ? "unbounded" : slack.TotalHours.ToString("0.##", CultureInfo.InvariantCulture) + " h";

    /// <summary>
    /// The region's links as rounds read them, by site index: the bandwidth between any two sites and the sites each
    /// can reach. Kept while the sites and links stay the same, not built per round: for 150 sites the matrix is 180 KB,
    /// an array on the large object heap, and prompt rounds come several times a second (their collections were gen2).
    /// </summary>
    private sealed class Topology
    {
        private readonly string[] _siteIds;
        private readonly LinkSpec[] _links;

        private Topology(FleetSnapshot fleet)
        {
            _siteIds = [.. fleet.Sites.Select(s => s.Spec.Id)];
            _links = [.. fleet.Links];
            var n = _siteIds.Length;
            var index = new Dictionary<string, int>(n, StringComparer.Ordinal);
            for (var i = 0; i < n; i++) index.TryAdd(_siteIds[i], i);
            BandwidthGbps = new double[n * n];
            var reachable = Enumerable.Range(0, n).Select(i => new List<int> { i }).ToArray();
            foreach (var link in _links)
            {
                if (!index.TryGetValue(link.SiteA, out var a) || !index.TryGetValue(link.SiteB, out var b) || a == b) continue;
                if (BandwidthGbps[a * n + b] == 0)
                {
                    reachable[a].Add(b);
                    reachable[b].Add(a);
                }
                BandwidthGbps[a * n + b] = BandwidthGbps[b * n + a] = link.BandwidthGbps;
            }
            // In site order, so ties still go to the earlier site.
            Reachable = [.. reachable.Select(l => l.Order().ToArray())];
        }

        /// <summary>Gbps between sites i and j at [i * n + j]; 0 where no link joins them.</summary>
        public double[] BandwidthGbps { get; }

        /// <summary>Per site: itself and every site linked to it, as indices in site order.</summary>
        public int[][] Reachable { get; }

        /// <summary><paramref name="known"/> if the fleet has the same sites, in the same order, and the same links; else a new one.</summary>
        public static Topology Of(FleetSnapshot fleet, Topology? known) =>
            known is not null && known._siteIds.Length == fleet.Sites.Count && known._links.Length == fleet.Links.Count
            && Enumerable.Range(0, fleet.Sites.Count).All(i => known._siteIds[i] == fleet.Sites[i].Spec.Id)
            && Enumerable.Range(0, fleet.Links.Count).All(i => known._links[i] == fleet.Links[i])
                ? known
                : new Topology(fleet);
    }

    /// <summary>The mutable state of one round.</summary>
    private sealed class Round
    {
        private readonly PolicyOptions _options;
        private readonly Dictionary<string, SiteView> _byId;
        private readonly List<JobState>[] _runningBySite;
        private readonly double[] _bandwidthGbps;
        private readonly SiteView[][] _reachable;
        private readonly HashSet<string> _decided = new(StringComparer.Ordinal);
        private readonly HashSet<string> _deferred = new(StringComparer.Ordinal);

        public Round(FleetSnapshot fleet, PolicyOptions options, Topology topology)
        {
            _options = options;
            Now = fleet.Now;
            Sites = new SiteView[fleet.Sites.Count];
            _byId = new Dictionary<string, SiteView>(fleet.Sites.Count, StringComparer.Ordinal);
            _runningBySite = new List<JobState>[fleet.Sites.Count];
            for (var i = 0; i < fleet.Sites.Count; i++)
            {
                // Without forecasts a site's supply is assumed to hold (persistence), which is what an empty forecast means.
                var snapshot = options.UseForecast || fleet.Sites[i].Forecast.Count == 0 ? fleet.Sites[i] : fleet.Sites[i] with { Forecast = [] };
                var view = new SiteView(snapshot, i);
                Sites[i] = view;
                _byId.Add(view.Id, view);
                _runningBySite[i] = [];
            }

            _bandwidthGbps = topology.BandwidthGbps;
            _reachable = topology.Reachable.Select(indices => Array.ConvertAll(indices, i => Sites[i])).ToArray();

            var held = fleet.Sites.Select(s => s.HeldGpus).ToArray();
            foreach (var job in fleet.Jobs)
            {
                switch (job.Status)
                {
                    case JobStatus.Queued: Queued.Add(job); break;
                    case JobStatus.Paused: Paused.Add(job); break;
                    case JobStatus.Running or JobStatus.Relocating when job.SiteId is not null && _byId.TryGetValue(job.SiteId, out var site):
                        _runningBySite[site.Index].Add(job);
                        // An incoming job's GPUs and power are reserved at its destination while its checkpoint travels.
                        held[site.Index] += job.Spec.Gpus;
                        break;
                }
            }
            // One commit of each site's total: the load is then the same to the last bit whether the jobs were listed
            // or given as HeldGpus (scores are normalised over the candidates, which would magnify a rounding difference).
            foreach (var site in Sites) site.Commit(held[site.Index], site.JobPowerMegawatts(held[site.Index]));
        }

        public DateTimeOffset Now { get; }
        public SiteView[] Sites { get; }
        public List<JobState> Queued { get; } = [];
        public List<JobState> Paused { get; } = [];
        public List<Decision> Decisions { get; } = [];
        public List<Deferral> Deferrals { get; } = [];

        public SiteView? Site(string id) => _byId.GetValueOrDefault(id);
        public List<JobState> RunningAt(SiteView site) => _runningBySite[site.Index];

        /// <summary>The site itself and every site linked to it: where a job bound there can go.</summary>
        public SiteView[] Reachable(SiteView site) => _reachable[site.Index];

        public int MaxFreeGpus()
        {
            var max = 0;
            foreach (var s in Sites) max = Math.Max(max, s.FreeGpus);
            return max;
        }

        public bool AnySurplus()
        {
            foreach (var s in Sites) if (s.HeadroomMegawatts > 0) return true;
            return false;
        }

        public bool Moved(JobState job) => _decided.Contains(job.Id);

        public void Decide(Decision decision)
        {
            Decisions.Add(decision);
            _decided.Add(decision.JobId);
        }

        public void Defer(JobState job, string reason)
        {
            Deferrals.Add(new Deferral(job.Id, reason));
            _deferred.Add(job.Id);
        }

        /// <summary>Decided or deferred in this round already.</summary>
        public bool Handled(JobState job) => _decided.Contains(job.Id) || _deferred.Contains(job.Id);

        public bool InCooldown(JobState job) => job.LastTransitionAt is { } t && Now - t < _options.Cooldown;

        public bool MustRunNow(JobState job) => job.Slack(Now) <= _options.DeadlineGuard;

        /// <summary>An interruptible job with slack may wait for surplus; without a deadline, for at most MaxQueueWait.</summary>
        public bool CanWait(JobState job) =>
            _options.GreenAware && job.Spec.Interruptible && !MustRunNow(job)
            && (job.Spec.Deadline is not null || Now - (job.LastTransitionAt ?? job.Spec.Arrival) < _options.MaxQueueWait);

        public RelocationCost? MoveCost(JobState job, SiteView from, SiteView to)
        {
            var gbps = _bandwidthGbps[from.Index * Sites.Length + to.Index];
            if (gbps <= 0) return null;
            var gigabytes = job.Spec.CheckpointGigabytes;
            var hours = gigabytes * 8 / gbps / 3600 + _options.RestoreOverhead.TotalHours;
            return new RelocationCost(gigabytes, hours,
                gigabytes * _options.TransferKilowattHoursPerGigabyte / 1000,
                to.JobPowerMegawatts(job.Spec.Gpus) * hours);
        }
    }
}
