namespace Scheduler.Replay.Optimum;

using Scheduler.Scenarios;

/// <summary>
/// Jobs that may run at the same set of sites, reduced to two cumulative curves over the steps: the work that may have
/// been done by the end of each step (everything that has arrived) and the work that must have been done by then
/// (everything that is due). Any schedule of the individual jobs keeps its class's cumulative work between the two
/// curves, so constraining the class instead of each job only enlarges the feasible set.
/// </summary>
internal sealed class JobClass
{
    private JobClass(string key, int[] siteIndices, int steps)
    {
        Key = key;
        SiteIndices = siteIndices;
        ArrivedGpuHours = new double[steps];
        DueGpuHours = new double[steps];
        ActiveGpus = new double[steps];
    }

    /// <summary>The allowed sites, joined, for diagnostics.</summary>
    public string Key { get; }

    /// <summary>Indices into the scenario's sites where the class may run (empty when none of its sites exists).</summary>
    public int[] SiteIndices { get; }

    /// <summary>Cumulative work of the jobs that may run in steps 0..t, GPU-hours.</summary>
    public double[] ArrivedGpuHours { get; }

    /// <summary>Cumulative work that must be done by the end of step t, GPU-hours.</summary>
    public double[] DueGpuHours { get; }

    /// <summary>
    /// GPUs of the class's jobs whose window [arrival, due] covers step t: no job runs faster than its own GPU count,
    /// so the class cannot use more in that step. Without this cap the LP could squeeze all work into the greenest
    /// hours and the bound would be far from anything a scheduler could reach.
    /// </summary>
    public double[] ActiveGpus { get; }

    public int Jobs { get; private set; }

    public double WorkGpuHours { get; private set; }

    public double Tokens { get; private set; }

    /// <summary>First step any of its jobs may run.</summary>
    public int FirstStep { get; private set; } = int.MaxValue;

    /// <summary>Last step any of its work is due (all of it is due by then).</summary>
    public int LastStep { get; private set; } = -1;

    /// <summary>
    /// Groups the scenario's jobs by allowed sites. A job may work in the step its arrival falls in (a real system can
    /// start it no earlier) and must finish by the end of the step its deadline falls in (a real schedule meeting the
    /// deadline has finished by then); a job without a deadline, or one due after the horizon, is due at its end.
    /// Jobs arriving outside the horizon are left out.
    /// </summary>
    public static IReadOnlyList<JobClass> From(LoadedScenario scenario)
    {
        var steps = scenario.Steps;
        var stepTicks = scenario.Step.Ticks;
        var classes = new Dictionary<string, JobClass>(StringComparer.Ordinal);
        var arrivedAt = new Dictionary<JobClass, double[]>();
        var dueAt = new Dictionary<JobClass, double[]>();
        foreach (var job in scenario.Jobs)
        {
            var arrivalTicks = (job.Arrival - scenario.Start).Ticks;
            if (steps == 0 || arrivalTicks >= stepTicks * steps) continue;
            var arrival = arrivalTicks <= 0 ? 0 : (int)(arrivalTicks / stepTicks);
            var due = steps - 1;
            if (job.Deadline is { } deadline)
            {
                var deadlineTicks = (deadline - scenario.Start).Ticks;
                // The last step that starts before the deadline: ceil(deadline / step) - 1.
                var last = deadlineTicks <= 0 ? 0 : (deadlineTicks + stepTicks - 1) / stepTicks - 1;
                due = (int)Math.Clamp(last, arrival, steps - 1);
            }

            var siteIndices = Enumerable.Range(0, scenario.Sites.Count).Where(i => job.AllowsSite(scenario.Sites[i].Id)).ToArray();
            var key = string.Join(",", siteIndices.Select(i => scenario.Sites[i].Id));
            if (!classes.TryGetValue(key, out var jobClass))
            {
                jobClass = new JobClass(key, siteIndices, steps);
                classes[key] = jobClass;
                arrivedAt[jobClass] = new double[steps];
                dueAt[jobClass] = new double[steps];
            }
            arrivedAt[jobClass][arrival] += job.WorkGpuHours;
            for (var t = arrival; t <= due; t++) jobClass.ActiveGpus[t] += job.Gpus;
            dueAt[jobClass][due] += job.WorkGpuHours;
            jobClass.Jobs++;
            jobClass.WorkGpuHours += job.WorkGpuHours;
            jobClass.Tokens += (job.TokensPerGpuHour ?? 0) * job.WorkGpuHours;
            jobClass.FirstStep = Math.Min(jobClass.FirstStep, arrival);
            jobClass.LastStep = Math.Max(jobClass.LastStep, due);
        }

        foreach (var jobClass in classes.Values)
        {
            double arrived = 0, dueSum = 0;
            for (var t = 0; t < steps; t++)
            {
                arrived += arrivedAt[jobClass][t];
                dueSum += dueAt[jobClass][t];
                jobClass.ArrivedGpuHours[t] = arrived;
                jobClass.DueGpuHours[t] = dueSum;
            }
        }
        return classes.Values.OrderBy(c => c.Key, StringComparer.Ordinal).ToList();
    }
}
