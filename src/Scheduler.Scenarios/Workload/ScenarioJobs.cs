namespace Scheduler.Scenarios.Workload;

using Scheduler.Core.Model;

/// <summary>Rules shared by every workload source.</summary>
public static class ScenarioJobs
{
    /// <summary>
    /// Keeps a job inside the scenario: a deadline after <paramref name="end"/> becomes <paramref name="end"/>, and if the work then
    /// no longer fits running from arrival at full speed, it is cut to what fits (GPUs × hours left). Jobs near the end are
    /// thereby tight but still feasible in principle. Deadlines are otherwise untouched.
    /// </summary>
    public static JobSpec FitToEnd(JobSpec job, DateTimeOffset end)
    {
        if (job.Deadline is not { } deadline || deadline <= end) return job;
        var hoursLeft = (end - job.Arrival).TotalHours;
        var work = Math.Min(job.WorkGpuHours, job.Gpus * hoursLeft);
        return job with { Deadline = end, WorkGpuHours = work };
    }

    /// <summary>Sorted by arrival, then id (ordinal): the order <see cref="LoadedScenario.Jobs"/> promises.</summary>
    public static List<JobSpec> Sort(IEnumerable<JobSpec> jobs)
    {
        var list = jobs.ToList();
        list.Sort(static (a, b) =>
        {
            var c = a.Arrival.CompareTo(b.Arrival);
            return c != 0 ? c : string.CompareOrdinal(a.Id, b.Id);
        });
        return list;
    }

    internal static DateTimeOffset RoundUpToSecond(DateTimeOffset t)
    {
        var ticks = (t.UtcTicks + TimeSpan.TicksPerSecond - 1) / TimeSpan.TicksPerSecond * TimeSpan.TicksPerSecond;
        return new DateTimeOffset(ticks, TimeSpan.Zero);
    }
}
