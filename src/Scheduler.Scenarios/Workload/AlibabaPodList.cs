namespace Scheduler.Scenarios.Workload;

using System.Globalization;
using Scheduler.Core.Model;
using Scheduler.Scenarios.Data;

/// <summary>One pod of the Alibaba GPU trace (cluster-trace-gpu-v2023, <c>openb_pod_list_*.csv</c>). Times in seconds from the trace start.</summary>
public sealed record AlibabaPod(string Name, int Gpus, int GpuMilli, string Qos, string Phase, long CreationSeconds, long DeletionSeconds)
{
    public long DurationSeconds => DeletionSeconds - CreationSeconds;

    /// <summary>BE (best-effort) pods may be preempted in the source cluster; here they are interruptible and relocatable.</summary>
    public bool BestEffort => string.Equals(Qos, "BE", StringComparison.OrdinalIgnoreCase);
}

/// <summary>
/// How the pod list's timeline maps onto a scenario. A pod created at <c>c</c> seconds arrives at
/// <c>start + (c − trace_offset_hours·3600) · time_scale</c>; pods landing outside [start, end) are dropped. Durations are kept
/// (× <see cref="DurationScale"/>). <c>time_scale</c> &lt; 1 compresses the 149-day trace, e.g. 14/149 fits all of it into two weeks.
/// </summary>
public sealed record AlibabaWorkloadOptions
{
    public double TimeScale { get; init; } = 1;
    public double TraceOffsetHours { get; init; } = 0;
    public double DurationScale { get; init; } = 1;

    /// <summary>Deadline = arrival + slack × duration. Default 2.</summary>
    public double DeadlineSlack { get; init; } = 2;

    /// <summary>Checkpoint size per GPU, GB. Default 10.</summary>
    public double CheckpointGigabytesPerGpu { get; init; } = 10;

    public string Tenant { get; init; } = "alibaba";
    public string IdPrefix { get; init; } = "ali";

    /// <summary>Pods never scheduled (<c>Pending</c>) carry a wait, not a run time; dropped unless set. Default false.</summary>
    public bool IncludePending { get; init; }

    public IReadOnlyList<(string Field, string Reason)> Validate()
    {
        var e = new List<(string, string)>();
        if (!(TimeScale > 0)) e.Add(("time_scale", "must be > 0"));
        if (!(DurationScale > 0)) e.Add(("duration_scale", "must be > 0"));
        if (!(DeadlineSlack >= 1)) e.Add(("deadline_slack", "must be >= 1 (the job must fit before its deadline)"));
        if (!(CheckpointGigabytesPerGpu >= 0)) e.Add(("checkpoint_gb_per_gpu", "must be >= 0"));
        return e;
    }
}

/// <summary>Reader and job mapping of the Alibaba GPU pod list.</summary>
public static class AlibabaPodList
{
    public static List<AlibabaPod> Read(string path)
    {
        using var reader = DataFile.OpenText(path);
        return Parse(reader, path);
    }

    public static List<AlibabaPod> Parse(TextReader reader, string name)
    {
        var header = Csv.Split(reader.ReadLine() ?? throw new FormatException($"{Path.GetFileName(name)}: empty file"));
        int iName = Csv.RequireColumn(header, "name", name), iGpu = Csv.RequireColumn(header, "num_gpu", name),
            iMilli = Csv.FindColumn(header, "gpu_milli"), iQos = Csv.RequireColumn(header, "qos", name),
            iPhase = Csv.FindColumn(header, "pod_phase"), iCreate = Csv.RequireColumn(header, "creation_time", name),
            iDelete = Csv.RequireColumn(header, "deletion_time", name);
        var pods = new List<AlibabaPod>(8192);
        var lineNumber = 1;
        while (reader.ReadLine() is { } line)
        {
            lineNumber++;
            if (line.Length == 0) continue;
            var c = Csv.Split(line);
            if (c[iDelete].Length == 0) continue; // still running when the trace was cut: no duration
            pods.Add(new AlibabaPod(c[iName], Csv.ParseInt(c[iGpu], name, lineNumber),
                iMilli >= 0 && c[iMilli].Length > 0 ? Csv.ParseInt(c[iMilli], name, lineNumber) : 0, c[iQos],
                iPhase >= 0 ? c[iPhase] : "", long.Parse(c[iCreate], CultureInfo.InvariantCulture), long.Parse(c[iDelete], CultureInfo.InvariantCulture)));
        }
        return pods;
    }

    /// <summary>
    /// GPU pods (<c>num_gpu</c> &gt; 0) with a positive duration become jobs: GPUs = <c>num_gpu</c> (a fractional <c>gpu_milli</c> share
    /// still takes a whole GPU), work = GPUs × duration, id = prefix-name. BE pods are interruptible and relocatable, the rest neither.
    /// </summary>
    public static List<JobSpec> ToJobs(IEnumerable<AlibabaPod> pods, AlibabaWorkloadOptions o, DateTimeOffset start, DateTimeOffset end)
    {
        var jobs = new List<JobSpec>();
        foreach (var pod in pods)
        {
            if (pod.Gpus <= 0 || pod.DurationSeconds <= 0) continue;
            if (!o.IncludePending && string.Equals(pod.Phase, "Pending", StringComparison.OrdinalIgnoreCase)) continue;
            var arrival = start + TimeSpan.FromSeconds((pod.CreationSeconds - o.TraceOffsetHours * 3600) * o.TimeScale);
            arrival = new DateTimeOffset(arrival.UtcTicks / TimeSpan.TicksPerSecond * TimeSpan.TicksPerSecond, TimeSpan.Zero);
            if (arrival < start || arrival >= end) continue;
            var hours = pod.DurationSeconds * o.DurationScale / 3600.0;
            var deadline = ScenarioJobs.RoundUpToSecond(arrival + TimeSpan.FromHours(hours * o.DeadlineSlack));
            var job = new JobSpec($"{o.IdPrefix}-{pod.Name}", o.Tenant, pod.Gpus, pod.Gpus * hours, arrival, deadline,
                Interruptible: pod.BestEffort, Relocatable: pod.BestEffort, pod.Gpus * o.CheckpointGigabytesPerGpu, []);
            jobs.Add(ScenarioJobs.FitToEnd(job, end));
        }
        return jobs;
    }
}
