namespace Scheduler.LoadTest;

using System.Diagnostics;
using System.Diagnostics.Metrics;
using Grpc.Core;
using Scheduler.Api.V1;
using Scheduler.Storage.Sqlite;
using SchedulerDiagnostics = Scheduler.Grains.SchedulerDiagnostics;

/// <summary>Decision latency of the decisions of one kind that one kind of round took (<c>scheduler.round.trigger</c>/<c>scheduler.decision.kind</c>).</summary>
internal sealed record LatencySummary(int Decisions, double P50Ms, double P99Ms, double MaxMs);

/// <summary>
/// The storage's one writer in the window (<c>scheduler.storage.batch.duration</c> and <c>.queue_wait</c>): its batches'
/// time, and how long the oldest write of each waited for it. A decision's records wait in that queue.
/// </summary>
internal sealed record StorageSummary(int Batches, double BatchP50Ms, double BatchP99Ms, double BatchMaxMs, double WaitP50Ms, double WaitP99Ms, double WaitMaxMs)
{
    public static StorageSummary? Of(double[] batches, double[] waits) => batches.Length == 0 ? null : new(batches.Length,
        JobCreateScenario.Percentile(batches, 0.5), JobCreateScenario.Percentile(batches, 0.99), batches[^1],
        JobCreateScenario.Percentile(waits, 0.5), JobCreateScenario.Percentile(waits, 0.99), waits.Length > 0 ? waits[^1] : double.NaN);
}

internal sealed record ScaleResult(
    int Sites,
    int Plants,
    int ActiveJobsTarget,
    JobCreateResult? ActiveJobsCreate,
    double SettleSeconds,
    JobCounts? JobsAtWindowStart,
    double WindowSeconds,
    long Decisions,
    double DecisionLatencyP50Ms,
    double DecisionLatencyP99Ms,
    double DecisionLatencyP999Ms,
    double DecisionLatencyMaxMs,
    IReadOnlyDictionary<string, LatencySummary>? DecisionLatencyByTriggerAndKind,
    long Ticks,
    double TickP50Ms,
    double TickP99Ms,
    int? MemoryJobsTarget,
    JobCreateResult? MemoryJobsCreate,
    JobCounts? JobsAtMemoryReading,
    double? ResidentMemoryMiB,
    double? ManagedHeapMiB,
    TelemetryResult? Telemetry,
    IReadOnlyList<string> Problems,
    RuntimeStats? WindowRuntime = null,
    int FrontEverySeconds = 0,
    IReadOnlyList<double>? DecisionLatencyP99MsByMinute = null,
    StorageSummary? Storage = null,
    GcAttribution? GcPauses = null,
    IReadOnlyList<JobCounts>? JobsByMinute = null)
{
    /// <summary>The phase failed before it measured anything (the reason is the problem).</summary>
    public static ScaleResult Failed(LoadOptions options, string problem) => new(options.Sites, options.Plants, options.ActiveJobs, null, double.NaN, null,
        double.NaN, 0, double.NaN, double.NaN, double.NaN, double.NaN, null, 0, double.NaN, double.NaN, null, null, null, null, null, null, [problem]);
}

/// <summary>
/// The scale of the targets, on one fresh host with the host's default telemetry (tracing on): the load fleet with
/// every plant reporting at 1 Hz throughout; <c>activeJobs</c> jobs created as fast as they go, then, once the region
/// has placed them (no job queued, or a time limit), a window in which a trickle of creates (5/s) keeps decisions
/// coming and the scheduler's own histogram <c>scheduler.decision.latency</c> is read; then more jobs up to
/// <c>memoryJobs</c>, a full blocking compacting GC, and the process's resident set. With fronts (<see cref="Fronts"/>,
/// from <see cref="Fronts.Rounds"/> seconds before the window on), sites fall short and recover throughout the window,
/// so that telemetry triggers decisions too; the host's policy cooldown is then <see cref="FrontCooldown"/>, not an hour: no job placed in the run could move
/// or pause otherwise, and with any cooldown the tick would move them once it passed, a decision no sample triggers.
/// </summary>
internal static class ScalePhase
{
    private const double TrickleCreatesPerSecond = 5;
    private const double DecisionTargetMs = 10;
    private static readonly TimeSpan SettleLimit = TimeSpan.FromSeconds(120);
    private const string FrontCooldown = "00:00:00";

    public static async Task<ScaleResult> RunAsync(LoadOptions options, CancellationToken cancellation)
    {
        const string name = "scale";
        var problems = new List<string>();
        var fronts = options.FrontEverySeconds > 0;
        await using var host = await LoadHost.StartAsync(tracing: true, options.SampleRatio, spanProfile: false,
            fronts ? [$"--Scheduler:Policy:Cooldown={FrontCooldown}"] : []);
        Console.Error.WriteLine($"== {name}: fleet set-up, {options.Sites} sites, {options.Plants} plants");
        var (fleet, _) = await FleetSetup.RunAsync(host, options.Sites, options.Plants, cancellation);

        using var stopTelemetry = new CancellationTokenSource();
        var weather = new Fronts(options.Sites, Math.Max(1, options.FrontEverySeconds));
        var telemetryStarted = Stopwatch.GetTimestamp();
        var telemetryTask = new TelemetryScenario(host, fleet, options.Streams, pace: TimeSpan.FromSeconds(1), weather.Output, spread: true)
            .RunAsync(TimeSpan.FromHours(1), $"{name}: telemetry at 1 Hz", cancellation, stopTelemetry.Token);
        var jobs = new JobCreateScenario(host, fleet, options.Concurrency);
        using var channel = host.NewChannel();
        TelemetryResult telemetry;
        JobCreateResult active, memory = null!;
        double settleSeconds;
        JobCounts atWindow, atMemory = null!;
        double[] latencies, ticks, p99ByMinute;
        StorageSummary? storage;
        GcAttribution gcPauses;
        IReadOnlyList<JobCounts> jobsByMinute;
        Dictionary<string, LatencySummary> byTrigger;
        double windowSeconds;
        RuntimeStats windowRuntime;
        double? residentMiB = null, heapMiB = null;
        try
        {
            Console.Error.WriteLine($"== {name}: creating {options.ActiveJobs:N0} jobs");
            active = await jobs.RunAsync(TimeSpan.FromHours(1), $"{name}: jobs", cancellation, options.ActiveJobs);

            // Wait until the dispatcher has placed what it can: the burst of first placements is not the steady state.
            var settle = Stopwatch.GetTimestamp();
            atWindow = await JobCreateScenario.CountJobsAsync(channel, cancellation);
            while (atWindow.Queued > 0 && Stopwatch.GetElapsedTime(settle) < SettleLimit)
            {
                await Task.Delay(TimeSpan.FromSeconds(1), cancellation);
                atWindow = await JobCreateScenario.CountJobsAsync(channel, cancellation);
            }
            settleSeconds = Stopwatch.GetElapsedTime(settle).TotalSeconds;
            if (atWindow.Queued > 0) problems.Add($"scale: {atWindow.Queued} jobs still queued {settleSeconds:0} s after the creates");
            Console.Error.WriteLine($"   settled after {settleSeconds:0.0} s: {atWindow.Running:N0} running, {atWindow.Queued:N0} queued; reading decision latency for {options.ScaleSeconds:0} s");
            if (fronts)
            {
                // The next round of telemetry (one a second since it started) brings the first front. The window opens
                // once the weather is steady: after one front's life as many sites are dark as ever will be, and the
                // first fronts, the first time the process runs relocations and pauses at all, are behind.
                weather.StartAt((int)Stopwatch.GetElapsedTime(telemetryStarted).TotalSeconds + 1);
                Console.Error.WriteLine($"   a front darkens one more site every {options.FrontEverySeconds} s for {Fronts.Rounds} s; policy cooldown {FrontCooldown}; the window opens after {Fronts.Rounds} s of fronts");
                await Task.Delay(TimeSpan.FromSeconds(Fronts.Rounds), cancellation);
            }

            using (var recorder = new HistogramRecorder(SchedulerDiagnostics.SourceName, "scheduler.decision.latency", SchedulerDiagnostics.Tags.Trigger, SchedulerDiagnostics.Tags.DecisionKind))
            using (var tickRecorder = new HistogramRecorder(SchedulerDiagnostics.SourceName, "scheduler.tick.duration", SchedulerDiagnostics.Tags.Region))
            using (var batchRecorder = new HistogramRecorder(SqliteGrainStorage.MeterName, "scheduler.storage.batch.duration"))
            using (var waitRecorder = new HistogramRecorder(SqliteGrainStorage.MeterName, "scheduler.storage.queue_wait"))
            using (var pauseRecorder = new GcPauseRecorder())
            {
                var window = Stopwatch.GetTimestamp();
                var windowStartedAt = DateTime.UtcNow;
                var runtime = RuntimeStats.Start();
                jobsByMinute = await TrickleAsync(jobs, channel, TimeSpan.FromSeconds(options.ScaleSeconds), cancellation);
                windowSeconds = Stopwatch.GetElapsedTime(window).TotalSeconds;
                windowRuntime = runtime();
                latencies = recorder.Sorted();
                var decided = recorder.Since(window);
                p99ByMinute = SlicePercentiles.Of(decided, TimeSpan.FromSeconds(windowSeconds), TimeSpan.FromMinutes(1), 0.99);
                byTrigger = recorder.SortedBy().ToDictionary(kv => kv.Key, kv => new LatencySummary(kv.Value.Length,
                    JobCreateScenario.Percentile(kv.Value, 0.5), JobCreateScenario.Percentile(kv.Value, 0.99), kv.Value[^1]));
                // The load fleet's region only: the host's built-in region (three sites) ticks as often, in a fraction of a millisecond.
                ticks = tickRecorder.SortedBy().GetValueOrDefault(LoadFleet.Region) ?? [];
                storage = StorageSummary.Of(batchRecorder.Sorted(), waitRecorder.Sorted());
                // The runtime's events reach the listener on its own thread, up to a second or so after they happen.
                await Task.Delay(TimeSpan.FromSeconds(2), cancellation);
                gcPauses = GcAttribution.Of([.. decided.Select(m => (windowStartedAt + m.At, m.Value))], pauseRecorder.Pauses(), DecisionTargetMs);
            }
            foreach (var (trigger, l) in byTrigger.OrderBy(kv => kv.Key))
                Console.Error.WriteLine($"   {trigger}: {l.Decisions} decisions, p50 {l.P50Ms:0.0} ms, p99 {l.P99Ms:0.0} ms, max {l.MaxMs:0.0} ms");
            Console.Error.WriteLine($"   {latencies.Length:N0} decisions, latency p50 {JobCreateScenario.Percentile(latencies, 0.5):0.0} ms, p99 {JobCreateScenario.Percentile(latencies, 0.99):0.0} ms; {ticks.Length} ticks, p50 {JobCreateScenario.Percentile(ticks, 0.5):0.0} ms, p99 {JobCreateScenario.Percentile(ticks, 0.99):0.0} ms");
            if (p99ByMinute.Length > 0) Console.Error.WriteLine($"   p99 of each whole minute: {string.Join(", ", p99ByMinute.Select(p => $"{p:0.0}"))} ms");
            if (jobsByMinute.Count > 0)
                Console.Error.WriteLine($"   jobs queued / running / paused at the end of each whole minute: {string.Join(", ", jobsByMinute.Select(c => $"{c.Queued:N0} / {c.Running:N0} / {c.Paused:N0}"))}");
            if (storage is { } w)
                Console.Error.WriteLine($"   storage: {w.Batches:N0} batches, p50 {w.BatchP50Ms:0.00} ms, p99 {w.BatchP99Ms:0.00} ms, max {w.BatchMaxMs:0.0} ms; their oldest write waited p50 {w.WaitP50Ms:0.00} ms, p99 {w.WaitP99Ms:0.00} ms, max {w.WaitMaxMs:0.0} ms");
            // A GC pause is what most often stands between a decision and its target: the window's collections say how
            // many, and the pauses' times say which slow decisions waited through one.
            LoadRun.PrintRuntime(windowRuntime);
            PrintGcPauses(gcPauses);

            if (options.MemoryJobs > 0)
            {
                var more = options.MemoryJobs - atWindow.Total - (int)Math.Round(TrickleCreatesPerSecond * windowSeconds);
                Console.Error.WriteLine($"== {name}: creating {Math.Max(0, more):N0} more jobs for the memory reading at {options.MemoryJobs:N0}");
                memory = await jobs.RunAsync(TimeSpan.FromHours(1), $"{name}: jobs for memory", cancellation, Math.Max(0, more));
                atMemory = await JobCreateScenario.CountJobsAsync(channel, cancellation);
                // Garbage is not memory the scheduler needs: a full blocking compacting collection first, then the RSS.
                GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
                GC.WaitForPendingFinalizers();
                GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
                residentMiB = Math.Round(Process.GetCurrentProcess().WorkingSet64 / 1048576.0, 1);
                heapMiB = Math.Round(GC.GetGCMemoryInfo().HeapSizeBytes / 1048576.0, 1);
                Console.Error.WriteLine($"   {atMemory.Total:N0} jobs ({atMemory.Running:N0} running, {atMemory.Queued:N0} queued): resident {residentMiB:N0} MiB, managed heap {heapMiB:N0} MiB");
            }
        }
        finally
        {
            await stopTelemetry.CancelAsync();
            telemetry = await telemetryTask;
        }
        return new ScaleResult(options.Sites, options.Plants, options.ActiveJobs, active, Math.Round(settleSeconds, 1), atWindow, Math.Round(windowSeconds, 1),
            latencies.Length, JobCreateScenario.Percentile(latencies, 0.50), JobCreateScenario.Percentile(latencies, 0.99),
            JobCreateScenario.Percentile(latencies, 0.999), latencies.Length > 0 ? latencies[^1] : double.NaN,
            byTrigger, ticks.Length, JobCreateScenario.Percentile(ticks, 0.50), JobCreateScenario.Percentile(ticks, 0.99),
            options.MemoryJobs > 0 ? options.MemoryJobs : null, options.MemoryJobs > 0 ? memory : null, options.MemoryJobs > 0 ? atMemory : null,
            residentMiB, heapMiB, telemetry, problems, windowRuntime, options.FrontEverySeconds, p99ByMinute, storage, gcPauses, jobsByMinute);
    }

    private static void PrintGcPauses(GcAttribution g)
    {
        var generations = string.Join(", ", g.PausesByGeneration.Select(k => $"{k.Generation} {k.Count}: {k.TotalMs:N0} ms, longest {k.MaxMs:0.0}{(double.IsNaN(k.PromotedMiBP50) ? "" : $", kept {k.PromotedMiBP50:0.0} MiB (median)")}"));
        Console.Error.WriteLine($"   GC pauses: {g.Pauses} ({generations}), {g.PausedMs:N0} ms, longest {g.PauseMaxMs:0.0} ms; {g.DecisionsThroughPause:N0} of {g.Decisions:N0} decisions waited through one");
        if (g.Slow > 0)
            Console.Error.WriteLine($"   decisions over {g.ThresholdMs:0} ms: {g.Slow}, {g.SlowThroughPause} of them waited through a GC pause (median {g.SlowPausedShareP50:P0} of their latency in pauses); the slowest without one {(double.IsNaN(g.SlowWithoutPauseMaxMs) ? "n/a" : $"{g.SlowWithoutPauseMaxMs:0.0} ms")}");
    }

    /// <summary>
    /// Creates jobs at <see cref="TrickleCreatesPerSecond"/> for <paramref name="duration"/>, and counts the jobs by state
    /// at the end of each whole minute: whether the queue grows through the window (a round of starts walks every
    /// waiting job). Each count is five ListJobs calls of one item (all, and four states).
    /// </summary>
    private static async Task<IReadOnlyList<JobCounts>> TrickleAsync(JobCreateScenario jobs, Grpc.Net.Client.GrpcChannel channel, TimeSpan duration, CancellationToken cancellation)
    {
        var client = new JobService.JobServiceClient(channel);
        var random = new Random(7);
        var byMinute = new List<JobCounts>();
        var started = Stopwatch.GetTimestamp();
        for (var n = 0; Stopwatch.GetElapsedTime(started) < duration; n++)
        {
            var due = TimeSpan.FromSeconds(n / TrickleCreatesPerSecond) - Stopwatch.GetElapsedTime(started);
            if (due > TimeSpan.Zero) await Task.Delay(due, cancellation);
            try { await client.CreateJobAsync(jobs.NewRequest(random, $"trickle-{n}"), cancellationToken: cancellation); }
            catch (RpcException ex) when (ex.StatusCode != StatusCode.Cancelled) { Console.Error.WriteLine($"   trickle create failed: {ex.Status.Detail}"); }
            if (Stopwatch.GetElapsedTime(started) >= TimeSpan.FromMinutes(byMinute.Count + 1))
                byMinute.Add(await JobCreateScenario.CountJobsAsync(channel, cancellation));
        }
        if (byMinute.Count < (int)duration.TotalMinutes) byMinute.Add(await JobCreateScenario.CountJobsAsync(channel, cancellation)); // the last minute's end
        return byMinute;
    }
}

/// <summary>Every measurement of one of the scheduler's histograms while it lives, through an in-process listener.</summary>
internal sealed class HistogramRecorder : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly List<(string? Tag, double Value, long At)> _values = [];

    /// <param name="keys">Tags whose values each measurement is kept with, joined by '/' (<see cref="SortedBy"/>).</param>
    public HistogramRecorder(string meter, string instrument, params string[] keys)
    {
        _listener.InstrumentPublished = (i, listener) =>
        {
            if (i.Meter.Name == meter && i.Name == instrument) listener.EnableMeasurementEvents(i);
        };
        _listener.SetMeasurementEventCallback<double>((_, value, tags, _) =>
        {
            if (!double.IsFinite(value)) return;
            var tagValues = new string?[keys.Length];
            foreach (var t in tags)
                if (Array.IndexOf(keys, t.Key) is var i and >= 0) tagValues[i] = t.Value?.ToString();
            var key = keys.Length == 0 ? null : string.Join('/', tagValues);
            var at = Stopwatch.GetTimestamp();
            lock (_values) _values.Add((key, value, at));
        });
        _listener.Start();
    }

    public double[] Sorted()
    {
        lock (_values) return [.. _values.Select(v => v.Value).Order()];
    }

    /// <summary>Each measurement with when it came, counted from <paramref name="start"/> (a <see cref="Stopwatch"/> timestamp).</summary>
    public IReadOnlyList<(TimeSpan At, double Value)> Since(long start)
    {
        lock (_values) return [.. _values.Select(v => (Stopwatch.GetElapsedTime(start, v.At), v.Value))];
    }

    /// <summary>The measurements of each value of the tags, sorted.</summary>
    public IReadOnlyDictionary<string, double[]> SortedBy()
    {
        lock (_values) return _values.GroupBy(v => v.Tag ?? "").ToDictionary(g => g.Key, g => g.Select(v => v.Value).Order().ToArray());
    }

    public void Dispose() => _listener.Dispose();
}
