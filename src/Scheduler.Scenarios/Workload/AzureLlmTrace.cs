namespace Scheduler.Scenarios.Workload;

using System.Globalization;
using Scheduler.Core.Model;
using Scheduler.Scenarios.Data;

/// <summary>
/// The Azure LLM inference trace (<c>AzureLLMInferenceTrace_*.csv</c>: <c>TIMESTAMP, ContextTokens, GeneratedTokens</c>), as request
/// offsets from the first request. <see cref="PeriodSeconds"/> is the span plus one mean gap, so looping the trace keeps its rate.
/// </summary>
public sealed class AzureLlmTrace
{
    private readonly double[] _offsetSeconds;
    private readonly double[] _cumulativeGenerated;
    private readonly double[] _cumulativeContext;

    private AzureLlmTrace(DateTime first, double[] offsets, long[] context, long[] generated)
    {
        FirstRequest = first;
        _offsetSeconds = offsets;
        _cumulativeContext = new double[offsets.Length + 1];
        _cumulativeGenerated = new double[offsets.Length + 1];
        for (var i = 0; i < offsets.Length; i++)
        {
            _cumulativeContext[i + 1] = _cumulativeContext[i] + context[i];
            _cumulativeGenerated[i + 1] = _cumulativeGenerated[i] + generated[i];
        }
        var span = offsets[^1];
        PeriodSeconds = offsets.Length > 1 ? span * offsets.Length / (offsets.Length - 1) : 1;
    }

    public DateTime FirstRequest { get; }
    public int Requests => _offsetSeconds.Length;
    public double PeriodSeconds { get; }
    public double TotalContextTokens => _cumulativeContext[^1];
    public double TotalGeneratedTokens => _cumulativeGenerated[^1];

    public static AzureLlmTrace Read(string path)
    {
        using var reader = DataFile.OpenText(path);
        return Parse(reader, path);
    }

    public static AzureLlmTrace Parse(TextReader reader, string name)
    {
        var header = Csv.Split(reader.ReadLine() ?? throw new FormatException($"{Path.GetFileName(name)}: empty file"));
        int iTime = Csv.RequireColumn(header, "TIMESTAMP", name), iContext = Csv.RequireColumn(header, "ContextTokens", name),
            iGenerated = Csv.RequireColumn(header, "GeneratedTokens", name);
        var rows = new List<(DateTime Time, long Context, long Generated)>(20_000);
        var lineNumber = 1;
        while (reader.ReadLine() is { } line)
        {
            lineNumber++;
            if (line.Length == 0) continue;
            var c = line.Split(',');
            rows.Add((Csv.ParseClockTime(c[iTime], name, lineNumber), Csv.ParseInt(c[iContext], name, lineNumber), Csv.ParseInt(c[iGenerated], name, lineNumber)));
        }
        if (rows.Count == 0) throw new FormatException($"{Path.GetFileName(name)}: no requests");
        rows.Sort(static (a, b) => a.Time.CompareTo(b.Time));
        var first = rows[0].Time;
        return new AzureLlmTrace(first, [.. rows.Select(r => (r.Time - first).TotalSeconds)], [.. rows.Select(r => r.Context)], [.. rows.Select(r => r.Generated)]);
    }

    /// <summary>Context and generated tokens of the requests arriving in trace time [from, to) seconds, the trace looped forever.</summary>
    public (double Context, double Generated) TokensBetween(double fromSeconds, double toSeconds) =>
        (Cumulative(_cumulativeContext, toSeconds) - Cumulative(_cumulativeContext, fromSeconds),
         Cumulative(_cumulativeGenerated, toSeconds) - Cumulative(_cumulativeGenerated, fromSeconds));

    private double Cumulative(double[] prefix, double t)
    {
        var loops = Math.Floor(t / PeriodSeconds);
        var within = t - loops * PeriodSeconds;
        // Requests strictly before 'within' in this loop.
        var i = Array.BinarySearch(_offsetSeconds, within);
        if (i < 0) i = ~i;
        else while (i > 0 && _offsetSeconds[i - 1] == within) i--;
        return loops * prefix[^1] + prefix[i];
    }
}

/// <summary>
/// Inference load pinned to one site from the Azure trace. Scenario time τ (from the start) reads trace time (τ + offset) · time_scale,
/// looped every <see cref="AzureLlmTrace.PeriodSeconds"/>. Each step becomes one job at the site (if it has any tokens): GPUs = ⌈work
/// tokens / (rate · step seconds)⌉ where work tokens = (generated + prefill_cost_ratio · context) · load_scale, run for exactly the step
/// (arrival = step start, deadline = step end), not interruptible, not relocatable, <c>TokensPerGpuHour</c> = generated tokens / GPU-hours.
/// </summary>
public sealed record AzureInferenceOptions
{
    public required string SiteId { get; init; }

    /// <summary>Multiplier on the trace's request volume (the trace is one service; a campus runs many). Default 1.</summary>
    public double LoadScale { get; init; } = 1;

    /// <summary>Trace seconds per scenario second. &lt; 1 stretches the trace (fewer requests per hour). Default 1.</summary>
    public double TimeScale { get; init; } = 1;

    /// <summary>Scenario minutes added before mapping, to de-correlate sites replaying the same trace. Default 0.</summary>
    public double OffsetMinutes { get; init; } = 0;

    /// <summary>Decode throughput of one GPU, generated tokens/s (a 70B-class model with continuous batching on an H800-class GPU). Default 1000.</summary>
    public double GeneratedTokensPerGpuSecond { get; init; } = 1000;

    /// <summary>GPU time of one prompt (prefill) token relative to one generated token. Default 0.1 (prefill is batched and compute-bound).</summary>
    public double PrefillCostRatio { get; init; } = 0.1;

    public string Tenant { get; init; } = "azure-llm";
    public string IdPrefix { get; init; } = "llm";

    public IReadOnlyList<(string Field, string Reason)> Validate()
    {
        var e = new List<(string, string)>();
        if (!(LoadScale > 0)) e.Add(("load_scale", "must be > 0"));
        if (!(TimeScale > 0)) e.Add(("time_scale", "must be > 0"));
        if (!(GeneratedTokensPerGpuSecond > 0)) e.Add(("tokens_per_gpu_second", "must be > 0"));
        if (!(PrefillCostRatio >= 0)) e.Add(("prefill_cost_ratio", "must be >= 0"));
        return e;
    }
}

public static class AzureInference
{
    public static List<JobSpec> ToPinnedJobs(AzureLlmTrace trace, AzureInferenceOptions o, DateTimeOffset start, TimeSpan step, int steps)
    {
        var jobs = new List<JobSpec>(steps);
        var stepSeconds = step.TotalSeconds;
        var stepHours = step.TotalHours;
        var offset = o.OffsetMinutes * 60;
        var sites = new[] { o.SiteId };
        for (var k = 0; k < steps; k++)
        {
            var (context, generated) = trace.TokensBetween((k * stepSeconds + offset) * o.TimeScale, ((k + 1) * stepSeconds + offset) * o.TimeScale);
            generated *= o.LoadScale;
            var work = generated + o.PrefillCostRatio * context * o.LoadScale;
            if (work <= 0) continue;
            var gpus = (int)Math.Ceiling(work / (o.GeneratedTokensPerGpuSecond * stepSeconds) - 1e-9);
            gpus = Math.Max(1, gpus);
            var gpuHours = gpus * stepHours;
            var arrival = start + step * k;
            jobs.Add(new JobSpec($"{o.IdPrefix}-{o.SiteId}-{k.ToString("D5", CultureInfo.InvariantCulture)}", o.Tenant, gpus, gpuHours,
                arrival, arrival + step, Interruptible: false, Relocatable: false, CheckpointGigabytes: 0, sites,
                TokensPerGpuHour: generated / gpuHours));
        }
        return jobs;
    }
}
