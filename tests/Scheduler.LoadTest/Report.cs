namespace Scheduler.LoadTest;

using System.Globalization;
using System.Runtime;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

/// <summary>One host instance's results: set-up, telemetry ingest and job creation, with or without tracing.</summary>
internal sealed record RunResult(
    int Round,
    string Tracing,
    double? LoadAverage,
    SetupResult Setup,
    TelemetryResult Telemetry,
    JobCreateResult JobCreate,
    double ResidentMemoryMiB,
    long? SpansEnded,
    long? SpansExported,
    TelemetryResult? PacedTelemetry = null);

/// <param name="ThreadPoolSpinLimit">The runtime setting <c>System.Threading.ThreadPool.UnfairSemaphoreSpinLimit</c> as given (null: not given).</param>
internal sealed record Machine(int Cores, string Os, string Dotnet, string Architecture, double TotalMemoryMiB, bool ServerGc, string? ThreadPoolSpinLimit)
{
    public static Machine Current() => new(
        Environment.ProcessorCount, RuntimeInformation.OSDescription, RuntimeInformation.FrameworkDescription,
        RuntimeInformation.ProcessArchitecture.ToString(), Math.Round(GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / 1048576.0), GCSettings.IsServerGC,
        AppContext.GetData("System.Threading.ThreadPool.UnfairSemaphoreSpinLimit")?.ToString());
}

/// <summary>
/// Tracing overhead, (off − on) / off in %, of a rate: each round's pair of hosts, their median and range (null without
/// both modes); and whether it is at most <see cref="LimitPercent"/>, by a rank-sum test over all hosts (<see cref="Met"/>).
/// </summary>
/// <param name="Met">
/// True when the tracing-on hosts' rates lie above the tracing-off hosts' less <see cref="LimitPercent"/>
/// (<see cref="RankSumTest"/> at 5 %), false when they lie below; null when the hosts do not settle it.
/// </param>
internal sealed record Overhead(double? MedianPercent, double? MinPercent, double? MaxPercent, IReadOnlyList<double> PerRoundPercent, bool? Met)
{
    /// <summary>The target: tracing at default sampling costs at most this share of a rate.</summary>
    public const double LimitPercent = 10;

    public static Overhead From(IReadOnlyList<RunResult> runs, Func<RunResult, double> rate)
    {
        var pairs = runs.GroupBy(r => r.Round)
            .Select(g => (On: g.FirstOrDefault(r => r.Tracing == "on"), Off: g.FirstOrDefault(r => r.Tracing == "off")))
            .Where(p => p.On is not null && p.Off is not null && rate(p.Off) > 0 && double.IsFinite(rate(p.On)))
            .Select(p => Math.Round((rate(p.Off!) - rate(p.On!)) / rate(p.Off!) * 100, 1)).ToList();
        List<double> Rates(string tracing) => [.. runs.Where(r => r.Tracing == tracing).Select(rate).Where(v => double.IsFinite(v) && v > 0)];
        var met = RankSumTest.Above(Rates("on"), [.. Rates("off").Select(v => v * (1 - LimitPercent / 100))]);
        return pairs.Count == 0 ? new Overhead(null, null, null, [], met) : new Overhead(Report.Median(pairs), pairs.Min(), pairs.Max(), pairs, met);
    }
}

/// <summary>One target of the performance issue: what it asks, what was measured, whether it is met (null: not measured, or not settled).</summary>
internal sealed record Target(string Name, string Wanted, double? Measured, bool? Met);

/// <summary>
/// What the tool reports. Headline figures are medians over the rounds with tracing on (the host's default), or over
/// the rounds of the only mode; the ceilings are measured in the same process; decision latency and memory come from
/// the scale phase. Keys are camelCase in the JSON.
/// </summary>
internal sealed record Report(
    string StartedAt,
    string? Commit,
    bool Quick,
    bool Smoke,
    double SampleRatio,
    double TelemetrySampleRatio,
    int Plants,
    int Sites,
    double DurationSeconds,
    double WarmupSeconds,
    int Rounds,
    int TelemetryStreams,
    int JobCreateConcurrency,
    double? LoadAverageAtStart,
    double? LoadAverageAtEnd,
    double TelemetrySamplesPerSecond,
    double? GrpcStreamingCeilingSamplesPerSecond,
    double? TelemetryShareOfStreamingCeiling,
    double? GrpcUnaryCeilingCallsPerSecond,
    double? GrpcUnaryCeilingP99Ms,
    double? GrainCallCeilingPerSecond,
    double? GrainCallCeilingP99Ms,
    double JobCreatesPerSecond,
    double JobCreateP50Ms,
    double JobCreateP99Ms,
    double JobCreateP999Ms,
    double? JobCreatesShareOfUnaryCeiling,
    int ActiveJobs,
    long Decisions,
    double DecisionLatencyP50Ms,
    double DecisionLatencyP99Ms,
    double DecisionLatencyP999Ms,
    double? ResidentMemoryMiB,
    int? ResidentMemoryJobs,
    double? ManagedHeapMiB,
    double? PeakResidentMemoryMiB,
    double? TracingOverheadTelemetryPercent,
    double? TracingOverheadJobCreatePercent,
    Overhead TracingOverheadTelemetry,
    Overhead TracingOverheadJobCreate,
    Overhead TracingOverheadPacedTelemetryCpu,
    IReadOnlyList<Target> Targets,
    Machine Machine,
    IReadOnlyList<CeilingResult> Ceilings,
    IReadOnlyList<RunResult> Runs,
    ScaleResult Scale,
    RunResult? WarmUp,
    bool Ok,
    IReadOnlyList<string> Problems,
    IReadOnlyList<string> Warnings)
{
    private static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    public static double Median(IEnumerable<double> values)
    {
        var sorted = values.Where(double.IsFinite).Order().ToArray();
        if (sorted.Length == 0) return double.NaN;
        var mid = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
    }

    public static Report From(LoadOptions options, DateTimeOffset startedAt, IReadOnlyList<RunResult> runs, RunResult? warmUp,
        CeilingResult? unary, CeilingResult? streaming, CeilingResult? grainCalls, ScaleResult scale, double? loadBefore, double? loadAfter)
    {
        var headline = runs.Any(r => r.Tracing == "on") ? runs.Where(r => r.Tracing == "on").ToList() : runs.ToList();
        double Med(Func<RunResult, double> f) => Math.Round(Median(headline.Select(f)), 2);
        var problems = runs.SelectMany(r => r.Telemetry.Problems.Concat(r.JobCreate.Problems).Select(p => $"{Name(r)}: {p}")).Concat(scale.Problems).ToList();
        foreach (var r in runs)
        {
            if (r.Telemetry.Rejected > 0) problems.Add($"{Name(r)}: {r.Telemetry.Rejected} telemetry samples rejected (expected 0)");
            if (r.Telemetry.Accepted != r.Telemetry.Sent && r.Telemetry.StreamErrors == 0)
                problems.Add($"{Name(r)}: sent {r.Telemetry.Sent} samples, the server counted {r.Telemetry.Accepted + r.Telemetry.Rejected}");
            if (r.JobCreate.Errors > 0) problems.Add($"{Name(r)}: {r.JobCreate.Errors} CreateJob calls failed");
            if (r.Setup.FleetPlantsAfter < r.Setup.Plants) problems.Add($"{Name(r)}: fleet has {r.Setup.FleetPlantsAfter} plants after set-up");
        }
        if (scale.Telemetry?.Rejected > 0) problems.Add($"scale: {scale.Telemetry.Rejected} telemetry samples rejected");
        if ((scale.ActiveJobsCreate?.Errors ?? 0) + (scale.MemoryJobsCreate?.Errors ?? 0) > 0) problems.Add("scale: CreateJob calls failed");
        var warnings = new List<string>();
        foreach (var r in runs)
            foreach (var (scenario, seconds, stats) in new[] { ("telemetry", r.Telemetry.Seconds, r.Telemetry.Runtime), ("job creation", r.JobCreate.Seconds, r.JobCreate.Runtime) })
                if (stats.OtherProcessesCpuSeconds is { } other && other > 0.1 * seconds * Environment.ProcessorCount)
                    warnings.Add($"{Name(r)}, {scenario}: other processes used {other:0.0} CPU s of {seconds * Environment.ProcessorCount:0} (the machine was shared; figures are disturbed)");

        var telemetry = Med(r => r.Telemetry.SamplesPerSecond);
        var creates = Med(r => r.JobCreate.CreatesPerSecond);
        var p99 = Med(r => r.JobCreate.P99Ms);
        var overheadTelemetry = Overhead.From(runs, r => r.Telemetry.SamplesPerSecond);
        var overheadCreate = Overhead.From(runs, r => r.JobCreate.CreatesPerSecond);
        // Samples per CPU-second, the throughput two busy cores would give: its overhead is (CPU on - CPU off) / CPU on.
        var overheadPaced = Overhead.From(runs, r => r.PacedTelemetry is { } p && p.CpuMicrosecondsPerSample > 0 ? 1e6 / p.CpuMicrosecondsPerSample : double.NaN);
        var memoryAtTarget = scale.MemoryJobsTarget >= 100_000 ? scale.ResidentMemoryMiB : null;
        var share = streaming is { PerSecond: > 0 } ? Math.Round(telemetry / streaming.PerSecond, 3) : (double?)null;
        List<Target> targets =
        [
            new("telemetry samples/s (tracing on)", ">= 20,000", telemetry, telemetry >= 20_000),
            new("telemetry / grpc streaming ceiling", ">= 0.5", share, share is null ? null : share >= 0.5),
            new("job creates/s (tracing on)", ">= 2,000", creates, creates >= 2_000),
            new("job create p99 ms (tracing on)", "<= 50", p99, p99 <= 50),
            new($"decision latency p99 ms ({scale.ActiveJobsTarget:N0} jobs, {scale.Plants:N0} plants at 1 Hz{(scale.FrontEverySeconds > 0 ? $", a front every {scale.FrontEverySeconds} s" : "")})", "<= 10", Round(scale.DecisionLatencyP99Ms),
                scale.Decisions > 0 ? scale.DecisionLatencyP99Ms <= 10 : null),
            new("resident memory MiB at 100,000 jobs", "<= 2,048", memoryAtTarget, memoryAtTarget is null ? null : memoryAtTarget <= 2_048),
            new("tracing overhead %, telemetry (median; rank-sum test over hosts)", "<= 10", overheadTelemetry.MedianPercent, overheadTelemetry.Met),
            new("tracing overhead %, job creation (median; rank-sum test over hosts)", "<= 10", overheadCreate.MedianPercent, overheadCreate.Met),
            new($"tracing overhead %, telemetry CPU/sample at {options.PacedSamplesPerSecond:N0}/s (median; rank-sum test)", "<= 10", overheadPaced.MedianPercent, overheadPaced.Met),
        ];
        return new Report(startedAt.ToString("O", CultureInfo.InvariantCulture), SourceVersion.Describe(), options.Quick, options.Smoke, options.EffectiveSampleRatio, options.EffectiveTelemetrySampleRatio,
            options.Plants, options.Sites, options.DurationSeconds, options.WarmupSeconds, options.Rounds, options.Streams, options.Concurrency, loadBefore, loadAfter,
            telemetry, Round(streaming?.PerSecond), share, Round(unary?.PerSecond), Round(unary?.P99Ms), Round(grainCalls?.PerSecond), Round(grainCalls?.P99Ms),
            creates, Med(r => r.JobCreate.P50Ms), p99, Med(r => r.JobCreate.P999Ms),
            unary is { PerSecond: > 0 } ? Math.Round(creates / unary.PerSecond, 4) : null,
            scale.ActiveJobsTarget, scale.Decisions, Round(scale.DecisionLatencyP50Ms) ?? double.NaN, Round(scale.DecisionLatencyP99Ms) ?? double.NaN,
            Round(scale.DecisionLatencyP999Ms) ?? double.NaN, scale.ResidentMemoryMiB, scale.JobsAtMemoryReading?.Total, scale.ManagedHeapMiB, PeakResidentMiB(),
            overheadTelemetry.MedianPercent, overheadCreate.MedianPercent, overheadTelemetry, overheadCreate, overheadPaced, targets, Machine.Current(),
            new[] { unary, streaming, grainCalls }.OfType<CeilingResult>().ToList(), runs, scale, warmUp, problems.Count == 0, problems, warnings);
    }

    private static string Name(RunResult r) => $"round {r.Round + 1}, tracing {r.Tracing}";

    private static double? Round(double? v) => v is { } x && double.IsFinite(x) ? Math.Round(x, 2) : null;

    public string ToJson() => JsonSerializer.Serialize(this, Json);

    public string ToTable()
    {
        var c = CultureInfo.InvariantCulture;
        string F(double? v, string format = "N0") => v is { } x && double.IsFinite(x) ? x.ToString(format, c) : "-";
        var text = new StringBuilder();
        text.AppendLine(c, $"bench: {Plants:N0} plants on {Sites} sites, {TelemetryStreams} telemetry streams, {JobCreateConcurrency} CreateJob calls in flight, {DurationSeconds:0.#} s per scenario, {Rounds} round(s); commit {Commit ?? "unknown"}");
        text.AppendLine(c, $"machine: {Machine.Cores} cores, {Machine.TotalMemoryMiB:N0} MiB, {Machine.Os}, {Machine.Dotnet}, server GC {Machine.ServerGc}, thread-pool spin limit {Machine.ThreadPoolSpinLimit ?? "default"}; load average {F(LoadAverageAtStart, "0.00")} at start, {F(LoadAverageAtEnd, "0.00")} at end");
        text.AppendLine();
        text.AppendLine(c, $"{"figure",-52} {"value",12} {"baseline",12} {"ratio",8}");
        text.AppendLine(c, $"{"telemetry samples/s (tracing on, median)",-52} {F(TelemetrySamplesPerSecond),12} {F(GrpcStreamingCeilingSamplesPerSecond),12} {F(TelemetryShareOfStreamingCeiling, "0.00"),8}");
        text.AppendLine(c, $"{"job creates/s (tracing on, median)",-52} {F(JobCreatesPerSecond),12} {F(GrpcUnaryCeilingCallsPerSecond),12} {F(JobCreatesShareOfUnaryCeiling, "0.000"),8}");
        text.AppendLine(c, $"{"job create p50 / p99 / p99.9 ms",-52} {F(JobCreateP50Ms, "0.0") + " / " + F(JobCreateP99Ms, "0.0") + " / " + F(JobCreateP999Ms, "0.0"),12}");
        text.AppendLine(c, $"{"grpc unary ceiling calls/s (p99 ms)",-52} {F(GrpcUnaryCeilingCallsPerSecond),12} {"(" + F(GrpcUnaryCeilingP99Ms, "0.00") + ")",12}");
        text.AppendLine(c, $"{"orleans grain-call ceiling calls/s (p99 ms)",-52} {F(GrainCallCeilingPerSecond),12} {"(" + F(GrainCallCeilingP99Ms, "0.000") + ")",12}");
        text.AppendLine(c, $"{$"decision latency p50 / p99 / p99.9 ms ({Decisions:N0} decisions)",-52} {F(DecisionLatencyP50Ms, "0.0") + " / " + F(DecisionLatencyP99Ms, "0.0") + " / " + F(DecisionLatencyP999Ms, "0.0"),12}");
        if (Scale.DecisionLatencyP99MsByMinute is { Count: > 0 } minutes)
            text.AppendLine(c, $"{"  p99 of each whole minute, ms",-52} {string.Join(", ", minutes.Select(m => F(m, "0.0")))}");
        foreach (var (key, l) in (Scale.DecisionLatencyByTriggerAndKind ?? new Dictionary<string, LatencySummary>()).OrderBy(kv => kv.Key, StringComparer.Ordinal))
            text.AppendLine(c, $"{$"  {key} ({l.Decisions:N0}): p50 / p99 / max ms",-52} {F(l.P50Ms, "0.0") + " / " + F(l.P99Ms, "0.0") + " / " + F(l.MaxMs, "0.0"),12}");
        if (Scale.Storage is { } w)
            text.AppendLine(c, $"{$"  storage batches ({w.Batches:N0}): p50 / p99 / max ms",-52} {F(w.BatchP50Ms, "0.00") + " / " + F(w.BatchP99Ms, "0.00") + " / " + F(w.BatchMaxMs, "0.0"),12}   oldest write's wait p99 / max {F(w.WaitP99Ms, "0.00")} / {F(w.WaitMaxMs, "0.0")} ms");
        text.AppendLine(c, $"{$"resident memory MiB at {F(ResidentMemoryJobs)} jobs (managed heap)",-52} {F(ResidentMemoryMiB),12} {"(" + F(ManagedHeapMiB) + ")",12}");
        text.AppendLine(c, $"{"tracing overhead % telemetry: median [min, max]",-52} {F(TracingOverheadTelemetry.MedianPercent, "0.0"),12} {"[" + F(TracingOverheadTelemetry.MinPercent, "0.0") + ", " + F(TracingOverheadTelemetry.MaxPercent, "0.0") + "]",12}");
        text.AppendLine(c, $"{"tracing overhead % job creation: median [min, max]",-52} {F(TracingOverheadJobCreate.MedianPercent, "0.0"),12} {"[" + F(TracingOverheadJobCreate.MinPercent, "0.0") + ", " + F(TracingOverheadJobCreate.MaxPercent, "0.0") + "]",12}");
        text.AppendLine(c, $"{"tracing overhead % telemetry CPU/sample (paced)",-52} {F(TracingOverheadPacedTelemetryCpu.MedianPercent, "0.0"),12} {"[" + F(TracingOverheadPacedTelemetryCpu.MinPercent, "0.0") + ", " + F(TracingOverheadPacedTelemetryCpu.MaxPercent, "0.0") + "]",12}");
        text.AppendLine();
        text.AppendLine(c, $"{"round",-8} {"tracing",8} {"load avg",9} {"samples/s",11} {"creates/s",10} {"p50 ms",8} {"p99 ms",8} {"p99.9 ms",9} {"spans/s",8} {"paced µs CPU/sample",20}");
        foreach (var r in Runs)
            text.AppendLine(c, $"{r.Round + 1,-8} {r.Tracing,8} {F(r.LoadAverage, "0.00"),9} {F(r.Telemetry.SamplesPerSecond),11} {F(r.JobCreate.CreatesPerSecond),10} {F(r.JobCreate.P50Ms, "0.0"),8} {F(r.JobCreate.P99Ms, "0.0"),8} {F(r.JobCreate.P999Ms, "0.0"),9} {F(r.Telemetry.SpansPerSecond),8} {F(r.PacedTelemetry?.CpuMicrosecondsPerSample, "0.0"),20}");
        text.AppendLine();
        text.AppendLine("targets:");
        foreach (var t in Targets)
            text.AppendLine(c, $"  {(t.Met switch { true => "met", false => "MISSED", null when t.Measured is not null => "unsettled", null => "n/a" }),-9} {t.Name,-80} {t.Wanted,10}  measured {F(t.Measured, "#,0.##")}");
        text.AppendLine(Ok ? "OK: no rejected samples, no failed calls" : "PROBLEMS:\n  " + string.Join("\n  ", Problems));
        if (Warnings.Count > 0) text.AppendLine("WARNINGS:\n  " + string.Join("\n  ", Warnings));
        return text.ToString();
    }

    /// <summary>Peak resident set (VmHWM) on Linux; null elsewhere.</summary>
    private static double? PeakResidentMiB()
    {
        const string status = "/proc/self/status";
        if (!File.Exists(status)) return null;
        var line = File.ReadLines(status).FirstOrDefault(l => l.StartsWith("VmHWM:", StringComparison.Ordinal));
        return line is not null && long.TryParse(line["VmHWM:".Length..].Replace("kB", "", StringComparison.Ordinal).Trim(), CultureInfo.InvariantCulture, out var kb)
            ? Math.Round(kb / 1024.0, 1) : null;
    }
}
