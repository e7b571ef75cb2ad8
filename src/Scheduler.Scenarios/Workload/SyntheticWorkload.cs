namespace Scheduler.Scenarios.Workload;

using System.Globalization;
using Scheduler.Core.Model;

/// <summary>
/// Settings of the seeded synthetic batch workload. Defaults are loosely fitted to the Alibaba GPU pod list
/// (<c>openb_pod_list_default.csv</c>: 42 % of its pods are best-effort, GPU counts 1/2/4/8) but shifted towards the multi-hour,
/// multi-GPU training jobs that make relocation worthwhile: the pod list's median of 9 minutes would fit inside one step.
/// </summary>
public sealed record SyntheticWorkloadOptions
{
    /// <summary>Seed; the same seed (and settings and range) gives the same jobs, byte for byte.</summary>
    public long Seed { get; init; } = 1;

    /// <summary>Exact number of jobs over the scenario range.</summary>
    public int Count { get; init; } = 1000;

    public string IdPrefix { get; init; } = "batch";

    /// <summary>Tenants, chosen uniformly.</summary>
    public IReadOnlyList<string> Tenants { get; init; } = ["tenant-a", "tenant-b", "tenant-c"];

    /// <summary>Arrival intensity ∝ 1 + A·cos(2π(h − peak)/24); 0 means uniform. Default 0.3.</summary>
    public double DiurnalAmplitude { get; init; } = 0.3;

    /// <summary>Hour of peak arrivals on the clock of <see cref="DiurnalClockUtcOffset"/>. Default 14.</summary>
    public double DiurnalPeakHour { get; init; } = 14;

    /// <summary>Offset from UTC of the clock the diurnal cycle follows; the loader sets the UTC offset written in the scenario's <c>start</c>. Default 0 (UTC).</summary>
    public TimeSpan DiurnalClockUtcOffset { get; init; } = TimeSpan.Zero;

    /// <summary>GPU counts and their relative weights. Default 1: 0.35, 2: 0.15, 4: 0.15, 8: 0.25, 16: 0.07, 32: 0.03.</summary>
    public IReadOnlyList<(int Gpus, double Weight)> GpuWeights { get; init; } =
        [(1, 0.35), (2, 0.15), (4, 0.15), (8, 0.25), (16, 0.07), (32, 0.03)];

    /// <summary>Log-normal duration: median, hours. Default 3.</summary>
    public double DurationMedianHours { get; init; } = 3;

    /// <summary>Log-normal duration: σ of ln(hours). Default 1.0 (the 90th percentile is 3.6 × the median).</summary>
    public double DurationSigma { get; init; } = 1.0;

    public double DurationMinHours { get; init; } = 0.25;
    public double DurationMaxHours { get; init; } = 48;

    /// <summary>Share of jobs that may pause and resume. Default 0.6.</summary>
    public double InterruptibleShare { get; init; } = 0.6;

    /// <summary>Share of all jobs that may move between sites; drawn from the interruptible ones. Default 0.5.</summary>
    public double RelocatableShare { get; init; } = 0.5;

    /// <summary>Checkpoint size per GPU, GB (model + optimiser shard). Default 20; each job draws ×0.5..×1.5 of it.</summary>
    public double CheckpointGigabytesPerGpu { get; init; } = 20;

    /// <summary>Deadline = arrival + slack × duration, slack uniform in [min, max]. Defaults 1.5 and 4.</summary>
    public double SlackMin { get; init; } = 1.5;
    public double SlackMax { get; init; } = 4;

    /// <summary>Sites every job may run at; empty means any.</summary>
    public IReadOnlyList<string> AllowedSites { get; init; } = [];

    /// <summary>Returns (field, reason) errors with snake_case field names.</summary>
    public IReadOnlyList<(string Field, string Reason)> Validate()
    {
        var e = new List<(string, string)>();
        if (Count < 0) e.Add(("count", "must be >= 0"));
        if (Tenants.Count == 0) e.Add(("tenants", "must name at least one tenant"));
        if (!(DiurnalAmplitude >= 0 && DiurnalAmplitude <= 1)) e.Add(("diurnal_amplitude", "must be in [0, 1]"));
        if (GpuWeights.Count == 0) e.Add(("gpus", "must list at least one GPU count"));
        foreach (var (g, w) in GpuWeights)
        {
            if (g <= 0) e.Add(("gpus", $"GPU count {g} must be > 0"));
            if (!(w >= 0)) e.Add(("gpus", $"weight of {g} GPUs must be >= 0"));
        }
        if (GpuWeights.Count > 0 && !(GpuWeights.Sum(x => x.Weight) > 0)) e.Add(("gpus", "weights must not all be 0"));
        if (!(DurationMedianHours > 0)) e.Add(("duration_median_hours", "must be > 0"));
        if (!(DurationSigma >= 0)) e.Add(("duration_sigma", "must be >= 0"));
        if (!(DurationMinHours > 0 && DurationMinHours <= DurationMaxHours)) e.Add(("duration_min_hours", "must be > 0 and <= duration_max_hours"));
        if (!(InterruptibleShare >= 0 && InterruptibleShare <= 1)) e.Add(("interruptible_share", "must be in [0, 1]"));
        if (!(RelocatableShare >= 0 && RelocatableShare <= InterruptibleShare)) e.Add(("relocatable_share", "must be in [0, interruptible_share]: moving a job means checkpointing it"));
        if (!(CheckpointGigabytesPerGpu >= 0)) e.Add(("checkpoint_gb_per_gpu", "must be >= 0"));
        if (!(SlackMin >= 1 && SlackMin <= SlackMax)) e.Add(("slack_min", "must be >= 1 (a job must fit before its deadline) and <= slack_max"));
        return e;
    }
}

/// <summary>The seeded synthetic batch workload.</summary>
public static class SyntheticWorkload
{
    /// <summary>
    /// <see cref="SyntheticWorkloadOptions.Count"/> jobs with arrivals in [<paramref name="start"/>, <paramref name="end"/>), whole seconds,
    /// drawn by rejection from the diurnal intensity; ids <c>{prefix}-{00000}</c> in arrival order. Deterministic for a seed.
    /// </summary>
    public static List<JobSpec> Generate(SyntheticWorkloadOptions o, DateTimeOffset start, DateTimeOffset end)
    {
        var rng = new DeterministicRandom(o.Seed);
        var span = end - start;
        var totalWeight = o.GpuWeights.Sum(x => x.Weight);
        var reloc = o.InterruptibleShare > 0 ? o.RelocatableShare / o.InterruptibleShare : 0;
        var clockOffset = o.DiurnalClockUtcOffset;
        var drafts = new List<(DateTimeOffset Arrival, int Draw, JobSpec Job)>(o.Count);
        for (var n = 0; n < o.Count; n++)
        {
            DateTimeOffset arrival;
            while (true)
            {
                var t = start + span * rng.NextDouble();
                var hour = (t.UtcDateTime + clockOffset).TimeOfDay.TotalHours;
                var intensity = 1 + o.DiurnalAmplitude * Math.Cos(2 * Math.PI * (hour - o.DiurnalPeakHour) / 24);
                if (rng.NextDouble() * (1 + o.DiurnalAmplitude) <= intensity)
                {
                    arrival = new DateTimeOffset(t.UtcTicks / TimeSpan.TicksPerSecond * TimeSpan.TicksPerSecond, TimeSpan.Zero);
                    break;
                }
            }
            var pick = rng.NextDouble() * totalWeight;
            var gpus = o.GpuWeights[^1].Gpus;
            foreach (var (g, w) in o.GpuWeights)
            {
                if (pick < w) { gpus = g; break; }
                pick -= w;
            }
            var hours = Math.Clamp(o.DurationMedianHours * Math.Exp(o.DurationSigma * rng.NextGaussian()), o.DurationMinHours, o.DurationMaxHours);
            hours = Math.Round(hours * 60) / 60; // whole minutes
            var interruptible = rng.NextDouble() < o.InterruptibleShare;
            var relocatable = interruptible && rng.NextDouble() < reloc;
            var checkpoint = Math.Round(gpus * o.CheckpointGigabytesPerGpu * (0.5 + rng.NextDouble()), 1);
            var slack = o.SlackMin + (o.SlackMax - o.SlackMin) * rng.NextDouble();
            var tenant = o.Tenants[rng.NextInt(o.Tenants.Count)];
            var deadline = ScenarioJobs.RoundUpToSecond(arrival + TimeSpan.FromHours(hours * slack));
            var job = new JobSpec("", tenant, gpus, gpus * hours, arrival, deadline, interruptible, relocatable, checkpoint, o.AllowedSites);
            drafts.Add((arrival, n, ScenarioJobs.FitToEnd(job, end)));
        }
        // Ids follow arrival order so they read naturally; the draw order stays the seed's.
        drafts.Sort(static (a, b) => a.Arrival != b.Arrival ? a.Arrival.CompareTo(b.Arrival) : a.Draw.CompareTo(b.Draw));
        var width = Math.Max(5, o.Count.ToString(CultureInfo.InvariantCulture).Length);
        var jobs = new List<JobSpec>(drafts.Count);
        for (var i = 0; i < drafts.Count; i++)
            jobs.Add(drafts[i].Job with { Id = $"{o.IdPrefix}-{i.ToString(CultureInfo.InvariantCulture).PadLeft(width, '0')}" });
        return jobs;
    }
}
