namespace Scheduler.Core.Execution;

using Scheduler.Core.Lifecycle;

/// <summary>
/// How a site credits work when an agent runs the job instead of the clock. The agent reports the workload's own
/// count of work done (cumulative over every restore, since the workload resumes its counter from its checkpoint), so
/// crediting the difference to what the job record already holds can neither lose nor count twice a piece of work,
/// whatever the relocations, restarts and lost reports in between.
/// </summary>
public static class AgentWork
{
    /// <summary>
    /// GPU-hours to credit now. The job completes only when its process exits with <see cref="WorkloadContract.ExitCompleted"/>:
    /// until then a report of all work done still leaves a sliver, so the record never says Completed while the
    /// process is still writing its results.
    /// </summary>
    /// <param name="job">The job as the site holds it.</param>
    /// <param name="remainingGpuHours">Work left as the site has counted it so far.</param>
    /// <param name="workDone">Work done so far, in the workload's units.</param>
    /// <param name="workTotal">Total work, same units (at most 0: unknown, nothing credited until exit).</param>
    /// <param name="completed">The process exited with code 0.</param>
    public static double CreditGpuHours(JobState job, double remainingGpuHours, double workDone, double workTotal, bool completed)
    {
        if (completed) return remainingGpuHours;
        if (!(workTotal > 0) || !double.IsFinite(workDone) || !double.IsFinite(workTotal)) return 0;
        var fraction = Math.Clamp(workDone / workTotal, 0, 1);
        var doneGpuHours = Math.Min(fraction * job.Spec.WorkGpuHours, job.Spec.WorkGpuHours * (1 - UnfinishedSliver));
        var credited = job.Spec.WorkGpuHours - remainingGpuHours;
        return Math.Max(0, doneGpuHours - credited);
    }

    /// <summary>Share of the work kept back until the process says it is done.</summary>
    public const double UnfinishedSliver = 1e-6;
}
