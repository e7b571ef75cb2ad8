namespace Scheduler.LoadTest;

using System.Globalization;
using System.Runtime;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

/// <summary>One host instance's results: set-up, telemetry ingest and job creation, with or without tracing.</summary>
internal sealed record RunResult(
    string Tracing,
    SetupResult Setup,
    TelemetryResult Telemetry,
    JobCreateResult JobCreate,
    double ResidentMemoryMiB,
    long? SpansEnded,
    long? SpansExported);

internal sealed record Machine(int Cores, string Os, string Dotnet, string Architecture, double TotalMemoryMiB, bool ServerGc)
{
    public static Machine Current() => new(
        Environment.ProcessorCount, RuntimeInformation.OSDescription, RuntimeInformation.FrameworkDescription,
        RuntimeInformation.ProcessArchitecture.ToString(), Math.Round(GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / 1048576.0), GCSettings.IsServerGC);
}

/// <summary>
/// What the tool reports. The headline figures come from the tracing-on run (the host's default), or from the only
/// run; the overheads need both runs: (off − on) / off, in %.
/// </summary>
internal sealed record Report(
    string StartedAt,
    string? Commit,
    bool Quick,
    double SampleRatio,
    int Plants,
    int Sites,
    double DurationSeconds,
    double WarmupSeconds,
    int TelemetryStreams,
    int JobCreateConcurrency,
    double TelemetrySamplesPerSecond,
    double JobCreatesPerSecond,
    double JobCreateP50Ms,
    double JobCreateP99Ms,
    double JobCreateP999Ms,
    double? TracingOverheadTelemetryPercent,
    double? TracingOverheadJobCreatePercent,
    double ResidentMemoryMiB,
    double? PeakResidentMemoryMiB,
    Machine Machine,
    IReadOnlyDictionary<string, RunResult> Runs,
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

    public static Report From(LoadOptions options, DateTimeOffset startedAt, IReadOnlyList<RunResult> runs, RunResult? warmUp)
    {
        var on = runs.FirstOrDefault(r => r.Tracing == "on");
        var off = runs.FirstOrDefault(r => r.Tracing == "off");
        var headline = on ?? runs[0];
        static double? Overhead(double? off, double? on) => off is > 0 && on is { } o ? Math.Round((off.Value - o) / off.Value * 100, 1) : null;
        var problems = runs.SelectMany(r => r.Telemetry.Problems.Concat(r.JobCreate.Problems).Select(p => $"tracing {r.Tracing}: {p}")).ToList();
        foreach (var r in runs)
        {
            if (r.Telemetry.Rejected > 0) problems.Add($"tracing {r.Tracing}: {r.Telemetry.Rejected} telemetry samples rejected (expected 0)");
            if (r.Telemetry.Accepted != r.Telemetry.Sent && r.Telemetry.StreamErrors == 0)
                problems.Add($"tracing {r.Tracing}: sent {r.Telemetry.Sent} samples, the server counted {r.Telemetry.Accepted + r.Telemetry.Rejected}");
            if (r.JobCreate.Errors > 0) problems.Add($"tracing {r.Tracing}: {r.JobCreate.Errors} CreateJob calls failed");
            if (r.Setup.FleetPlantsAfter < r.Setup.Plants) problems.Add($"tracing {r.Tracing}: fleet has {r.Setup.FleetPlantsAfter} plants after set-up");
        }
        var warnings = new List<string>();
        foreach (var r in runs)
            foreach (var (scenario, seconds, stats) in new[] { ("telemetry", r.Telemetry.Seconds, r.Telemetry.Runtime), ("job creation", r.JobCreate.Seconds, r.JobCreate.Runtime) })
                if (stats.OtherProcessesCpuSeconds is { } other && other > 0.1 * seconds * Environment.ProcessorCount)
                    warnings.Add($"tracing {r.Tracing}, {scenario}: other processes used {other:0.0} CPU s of {seconds * Environment.ProcessorCount:0} (the machine was shared; figures are disturbed)");
        return new Report(startedAt.ToString("O", CultureInfo.InvariantCulture), SourceVersion.Describe(), options.Quick, options.EffectiveSampleRatio, options.Plants, options.Sites,
            options.DurationSeconds, options.WarmupSeconds, options.Streams, options.Concurrency,
            Math.Round(headline.Telemetry.SamplesPerSecond, 1), Math.Round(headline.JobCreate.CreatesPerSecond, 1),
            Math.Round(headline.JobCreate.P50Ms, 2), Math.Round(headline.JobCreate.P99Ms, 2), Math.Round(headline.JobCreate.P999Ms, 2),
            Overhead(off?.Telemetry.SamplesPerSecond, on?.Telemetry.SamplesPerSecond),
            Overhead(off?.JobCreate.CreatesPerSecond, on?.JobCreate.CreatesPerSecond),
            Math.Round(Environment.WorkingSet / 1048576.0, 1), PeakResidentMiB(), Machine.Current(),
            runs.ToDictionary(r => r.Tracing, r => r), warmUp, problems.Count == 0, problems, warnings);
    }

    public string ToJson() => JsonSerializer.Serialize(this, Json);

    public string ToTable()
    {
        var runs = Runs.Values.ToList();
        var both = TracingOverheadTelemetryPercent is not null;
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture,
            $"Load: {Plants:N0} plants on {Sites} sites (+ the built-in 3), {TelemetryStreams} telemetry streams, {JobCreateConcurrency} CreateJob calls in flight, {DurationSeconds:0.#} s per scenario; a {WarmupSeconds:0.#} s warm-up run before");
        text.AppendLine(CultureInfo.InvariantCulture, $"Tracing on: Scheduler:Tracing:SampleRatio {SampleRatio}, spans counted and dropped in process; commit {Commit ?? "unknown"}");
        text.AppendLine(CultureInfo.InvariantCulture, $"Machine: {Machine.Cores} cores, {Machine.TotalMemoryMiB:N0} MiB, {Machine.Os}, {Machine.Dotnet}, server GC {Machine.ServerGc}");
        text.AppendLine();
        text.Append($"{"",-28}");
        foreach (var r in runs) text.Append($"{"tracing " + r.Tracing,14}");
        if (both) text.Append($"{"overhead",12}");
        text.AppendLine();
        void Row(string name, Func<RunResult, double?> value, string format, double? overhead = null)
        {
            text.Append($"{name,-28}");
            foreach (var r in runs) text.Append(value(r) is { } v && double.IsFinite(v) ? v.ToString(format, CultureInfo.InvariantCulture).PadLeft(14) : "-".PadLeft(14));
            if (both && overhead is { } o) text.Append((o.ToString("0.0", CultureInfo.InvariantCulture) + " %").PadLeft(12));
            text.AppendLine();
        }
        Row("fleet set-up upserts/s", r => r.Setup.UpsertsPerSecond, "N0");
        Row("telemetry samples/s", r => r.Telemetry.SamplesPerSecond, "N0", TracingOverheadTelemetryPercent);
        Row("telemetry rejected", r => r.Telemetry.Rejected, "N0");
        Row("job creates/s", r => r.JobCreate.CreatesPerSecond, "N0", TracingOverheadJobCreatePercent);
        Row("job create p50 ms", r => r.JobCreate.P50Ms, "N2");
        Row("job create p99 ms", r => r.JobCreate.P99Ms, "N2");
        Row("job create p99.9 ms", r => r.JobCreate.P999Ms, "N2");
        Row("job create max ms", r => r.JobCreate.MaxMs, "N2");
        Row("job create errors", r => r.JobCreate.Errors, "N0");
        Row("jobs running after", r => r.JobCreate.JobsAfter.Running, "N0");
        Row("jobs queued after", r => r.JobCreate.JobsAfter.Queued, "N0");
        Row("spans/s during telemetry", r => r.Telemetry.SpansPerSecond, "N0");
        Row("spans/s during job creates", r => r.JobCreate.SpansPerSecond, "N0");
        Row("resident memory MiB (end)", r => r.ResidentMemoryMiB, "N0");
        Row("CPU use % (telemetry)", r => r.Telemetry.Runtime.CpuUtilisation * 100, "N0");
        Row("CPU use % (job creates)", r => r.JobCreate.Runtime.CpuUtilisation * 100, "N0");
        Row("GC pause ms (telemetry)", r => r.Telemetry.Runtime.GcPauseMs, "N0");
        Row("other processes CPU s", r => r.Telemetry.Runtime.OtherProcessesCpuSeconds + r.JobCreate.Runtime.OtherProcessesCpuSeconds, "N1");
        text.AppendLine();
        text.AppendLine(CultureInfo.InvariantCulture, $"Process resident memory at the end: {ResidentMemoryMiB:N0} MiB (peak {PeakResidentMemoryMiB?.ToString("N0", CultureInfo.InvariantCulture) ?? "n/a"} MiB)");
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
