namespace Scheduler.Benchmarks;

using System.Diagnostics;
using System.Globalization;
using Scheduler.Core.Lifecycle;
using Scheduler.Core.Policy;

/// <summary>
/// A Stopwatch breakdown of one dispatch round (<c>--breakdown</c>), to see what dominates without a profiler.
/// Not a BenchmarkDotNet measurement: medians of a few dozen in-process runs after warm-up, so read it as a split,
/// not as the headline number.
/// </summary>
/// <remarks>
/// The phases run in a fixed order (relocate, pause, resume, place) and each reads only what the earlier ones
/// left, so removing the queued jobs removes exactly the place phase, and removing the paused ones too removes the
/// resume phase. The per-call cost of <see cref="SitePipeline.Evaluate"/> and <see cref="SitePipeline.Explain"/> is
/// measured on a pipeline of its own over the same sites; <c>SiteView</c>'s constructor is internal to the core, so
/// the views are built, and loaded with the running jobs, by reflection (the core is not changed).
/// </remarks>
public static class Breakdown
{
    private const int Runs = 30;

    public static void Run(TextWriter output)
    {
        var fleet = BenchmarkFleet.Create();
        var full = fleet.Snapshot;
        var noQueued = full with { Jobs = full.Jobs.Where(j => j.Status != JobStatus.Queued).ToArray() };
        var relocateAndPauseOnly = full with { Jobs = full.Jobs.Where(j => j.Status is not (JobStatus.Queued or JobStatus.Paused)).ToArray() };
        var emptyJobs = full with { Jobs = [] };
        var dispatcher = new Dispatcher(new PolicyOptions());
        var plan = dispatcher.Decide(full);
        var steady = fleet.NextRound(plan, TimeSpan.FromMinutes(15));

        output.WriteLine("Round (median of " + Runs + " runs)                   ms      MB alloc   decisions   GC pause ms   GCs gen0/1/2 per round");
        var tFull = Measure(output, "full round", dispatcher, full);
        var tNoQueued = Measure(output, "without queued jobs", dispatcher, noQueued);
        var tRelocPause = Measure(output, "without queued and paused jobs", dispatcher, relocateAndPauseOnly);
        var tEmpty = Measure(output, "sites and links only (no jobs)", dispatcher, emptyJobs);
        Measure(output, "steady state: next round, 15 min later", dispatcher, steady);
        // A prompt round as the scale phase of the load tool has it: every job runs but one new one.
        var oneQueued = steady with { Jobs = [.. steady.Jobs.Where(j => j.Status != JobStatus.Queued), .. full.Jobs.Where(j => j.Status == JobStatus.Queued).Take(1)] };
        Measure(output, "prompt round (starts only), one queued job", dispatcher, oneQueued, RoundScope.StartsOnly);
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"=> place phase ~{tFull - tNoQueued:0.0} ms, resume phase ~{tNoQueued - tRelocPause:0.0} ms, relocate + pause + round set-up ~{tRelocPause:0.0} ms (set-up alone ~{tEmpty:0.0} ms)"));

        PipelineCosts(output, full, plan);
    }

    private static double Measure(TextWriter output, string name, Dispatcher dispatcher, FleetSnapshot snapshot, RoundScope scope = RoundScope.Full)
    {
        DispatchPlan plan = dispatcher.Decide(snapshot, scope);
        for (var i = 0; i < 5; i++) plan = dispatcher.Decide(snapshot, scope);
        var times = new double[Runs];
        long bytes = 0;
        var pauses = new double[Runs];
        var gcs = new int[3];
        for (var i = 0; i < Runs; i++)
        {
            var before = GC.GetAllocatedBytesForCurrentThread();
            var pausedBefore = GC.GetTotalPauseDuration();
            var counts = new[] { GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2) };
            var sw = Stopwatch.StartNew();
            plan = dispatcher.Decide(snapshot, scope);
            sw.Stop();
            bytes = GC.GetAllocatedBytesForCurrentThread() - before;
            pauses[i] = (GC.GetTotalPauseDuration() - pausedBefore).TotalMilliseconds;
            for (var g = 0; g < 3; g++) gcs[g] += GC.CollectionCount(g) - counts[g];
            times[i] = sw.Elapsed.TotalMilliseconds;
        }
        Array.Sort(times);
        Array.Sort(pauses);
        var median = times[Runs / 2];
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  {name,-42} {median,8:0.0} {bytes / 1048576.0,10:0.0}   {plan.Decisions.Count,9}   {pauses[Runs / 2],8:0.0}   {gcs[0] / (double)Runs:0.0}/{gcs[1] / (double)Runs:0.0}/{gcs[2] / (double)Runs:0.0}"));
        return median;
    }

    /// <summary>Per-call cost of evaluating one job over every site, and of explaining that evaluation.</summary>
    private static void PipelineCosts(TextWriter output, FleetSnapshot fleet, DispatchPlan plan)
    {
        var views = fleet.Sites.Select((s, i) => new SiteView(s, i)).ToArray();
        // As the round does at set-up: running and incoming jobs hold their GPUs and power.
        var byId = views.ToDictionary(v => v.Id, StringComparer.Ordinal);
        foreach (var job in fleet.Jobs.Where(j => j.HoldsGpus && j.SiteId is not null))
        {
            var view = byId[job.SiteId!];
            view.Commit(job.Spec.Gpus, view.JobPowerMegawatts(job.Spec.Gpus));
        }
        var stack = new PipelineStack(new PolicyOptions());
        var jobs = fleet.Jobs.Where(j => j.Status == JobStatus.Queued).ToArray();
        var horizon = new PolicyOptions().GainHorizon.TotalHours;

        output.WriteLine();
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"Per call, {views.Length} sites, each of the {jobs.Length} queued jobs (average of 5 passes):"));
        var flexible = PerCall(output, stack.Flexible, views, jobs, fleet.Now, horizon);
        var urgent = PerCall(output, stack.Urgent, views, jobs, fleet.Now, horizon);

        ReplayExplain(output, fleet, plan, views, stack);

        // The forecast mean is computed per candidate, twice when the relocation gain filter runs.
        var site = views[0];
        var calls = 1_000_000;
        double sink = 0;
        for (var i = 0; i < 10_000; i++) sink += site.MeanForecastSupplyMegawatts(fleet.Now, horizon);
        var sw = Stopwatch.StartNew();
        for (var i = 0; i < calls; i++) sink += site.MeanForecastSupplyMegawatts(fleet.Now, horizon);
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  SiteView.MeanForecastSupplyMegawatts (24-point forecast, 6 h): {sw.Elapsed.TotalNanoseconds / calls:0} ns/call (checksum {sink:0})"));
    }

    /// <summary>
    /// Redoes, for every candidate record of every explained decision of the round, the work
    /// <see cref="SitePipeline.Explain"/> did to build it: the rejecting filter's <c>Reason</c> string (on a candidate
    /// for the same job, site and source; the figures in the text differ, the formatting work does not) or the
    /// scorers' <see cref="StageScore"/> array, and the <see cref="CandidateEvaluation"/>. Gives Explain's share of the
    /// round from the round's own mix of rejections.
    /// </summary>
    private static void ReplayExplain(TextWriter output, FleetSnapshot fleet, DispatchPlan plan, SiteView[] views, PipelineStack stack)
    {
        var filters = new[] { stack.Relocation, stack.Flexible, stack.Urgent }.SelectMany(p => p.Filters)
            .GroupBy(f => f.Name).ToDictionary(g => g.Key, g => g.First(), StringComparer.Ordinal);
        var scorers = stack.Urgent.Scorers;
        var byId = views.ToDictionary(v => v.Id, StringComparer.Ordinal);
        var jobs = fleet.Jobs.ToDictionary(j => j.Id, StringComparer.Ordinal);
        var bandwidth = new Dictionary<(string, string), double>();
        foreach (var link in fleet.Links) bandwidth[(link.SiteA, link.SiteB)] = bandwidth[(link.SiteB, link.SiteA)] = link.BandwidthGbps;
        var options = new PolicyOptions();
        var explained = plan.Decisions.Where(d => d.Kind != DecisionKind.Pause).ToArray();

        // The inputs of each record, built outside the timed part.
        var work = new List<(Candidate Candidate, ISiteFilter? Filter)[]>(explained.Length);
        var perFilter = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var d in explained)
        {
            var job = jobs[d.JobId];
            var from = d.FromSiteId is null ? null : byId[d.FromSiteId];
            var records = new (Candidate, ISiteFilter?)[d.Candidates.Count];
            for (var i = 0; i < records.Length; i++)
            {
                var c = d.Candidates[i];
                var site = byId[c.SiteId];
                RelocationCost? move = null;
                if (from is not null && !ReferenceEquals(from, site) && bandwidth.TryGetValue((from.Id, site.Id), out var gbps))
                {
                    var hours = job.Spec.CheckpointGigabytes * 8 / gbps / 3600 + options.RestoreOverhead.TotalHours;
                    move = new RelocationCost(job.Spec.CheckpointGigabytes, hours, job.Spec.CheckpointGigabytes * options.TransferKilowattHoursPerGigabyte / 1000,
                        site.JobPowerMegawatts(job.Spec.Gpus) * hours);
                }
                var candidate = new Candidate(job, site, from, fleet.Now, move, 0, Math.Min(job.RemainingHours, options.GainHorizon.TotalHours));
                records[i] = (candidate, c.RejectedBy is null ? null : filters[c.RejectedBy]);
                if (c.RejectedBy is not null) perFilter[c.RejectedBy] = perFilter.GetValueOrDefault(c.RejectedBy) + 1;
            }
            work.Add(records);
        }

        double Once(out long bytes)
        {
            var before = GC.GetAllocatedBytesForCurrentThread();
            var sw = Stopwatch.StartNew();
            foreach (var records in work)
            {
                var result = new CandidateEvaluation[records.Length];
                for (var k = 0; k < records.Length; k++)
                {
                    var (c, filter) = records[k];
                    if (filter is not null)
                    {
                        result[k] = new CandidateEvaluation(c.Site.Id, c.HeadroomMegawatts, filter.Name, filter.Reason(in c), [], 0);
                        continue;
                    }
                    var scores = new StageScore[scorers.Count];
                    for (var s = 0; s < scores.Length; s++) scores[s] = new StageScore(scorers[s].Name, s, 50);
                    result[k] = new CandidateEvaluation(c.Site.Id, c.HeadroomMegawatts, null, null, scores, 0);
                }
                GC.KeepAlive(result);
            }
            sw.Stop();
            bytes = GC.GetAllocatedBytesForCurrentThread() - before;
            return sw.Elapsed.TotalMilliseconds;
        }

        for (var i = 0; i < 3; i++) Once(out _);
        var times = new double[9];
        long replayBytes = 0;
        for (var i = 0; i < times.Length; i++) times[i] = Once(out replayBytes);
        Array.Sort(times);
        var rejected = perFilter.Values.Sum();
        var passed = explained.Sum(d => d.Candidates.Count) - rejected;
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"Explain replay: the round's {explained.Length} explained decisions carry {rejected + passed} candidate records ({passed} passed, {rejected} rejected: {string.Join(", ", perFilter.OrderByDescending(p => p.Value).Select(p => $"{p.Key} {p.Value}"))})"));
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  rebuilding them takes {times[times.Length / 2]:0.0} ms (median of {times.Length}) and allocates {replayBytes / 1048576.0:0.0} MB (GC pauses inside a real round not included)"));
    }

    private sealed record Cost(double EvaluateUs, double ExplainUs, double ExplainBytes, double Rejected, double Passed);

    private static Cost PerCall(TextWriter output, SitePipeline pipeline, SiteView[] views, JobState[] jobs, DateTimeOffset now, double horizon)
    {
        static RelocationCost? NoMove(JobState job, SiteView from, SiteView to) => null;
        const int Passes = 5;

        // Warm up, then time Evaluate alone, then Evaluate + Explain.
        for (var r = 0; r < 3; r++)
            foreach (var job in jobs) { pipeline.Evaluate(job, null, views, null, now, NoMove, 0, Math.Min(job.RemainingHours, horizon)); pipeline.Explain(); }

        var sw = Stopwatch.StartNew();
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var r = 0; r < Passes; r++)
            foreach (var job in jobs) pipeline.Evaluate(job, null, views, null, now, NoMove, 0, Math.Min(job.RemainingHours, horizon));
        var evaluateUs = sw.Elapsed.TotalMicroseconds / (Passes * jobs.Length);
        var evaluateBytes = (GC.GetAllocatedBytesForCurrentThread() - before) / (double)(Passes * jobs.Length);

        long rejected = 0, passed = 0;
        sw.Restart();
        before = GC.GetAllocatedBytesForCurrentThread();
        for (var r = 0; r < Passes; r++)
            foreach (var job in jobs)
            {
                pipeline.Evaluate(job, null, views, null, now, NoMove, 0, Math.Min(job.RemainingHours, horizon));
                var explained = pipeline.Explain();
                if (r > 0) continue;
                foreach (var c in explained) { if (c.Passed) passed++; else rejected++; }
            }
        var bothUs = sw.Elapsed.TotalMicroseconds / (Passes * jobs.Length);
        var bothBytes = (GC.GetAllocatedBytesForCurrentThread() - before) / (double)(Passes * jobs.Length);
        var cost = new Cost(evaluateUs, bothUs - evaluateUs, bothBytes - evaluateBytes, rejected / (double)jobs.Length, passed / (double)jobs.Length);
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  {pipeline.Name,-15} Evaluate {cost.EvaluateUs,6:0.0} us ({evaluateBytes:0} B); Explain {cost.ExplainUs,6:0.0} us, {cost.ExplainBytes,6:0} B ({cost.Rejected:0} rejected + {cost.Passed:0} passed candidates)"));
        return cost;
    }

    /// <summary>Solves a1 x + b1 y = c1, a2 x + b2 y = c2.</summary>
    private static (double X, double Y) Solve(double a1, double b1, double c1, double a2, double b2, double c2)
    {
        var det = a1 * b2 - a2 * b1;
        return Math.Abs(det) < 1e-9 ? (double.NaN, double.NaN) : ((c1 * b2 - c2 * b1) / det, (a1 * c2 - a2 * c1) / det);
    }
}
