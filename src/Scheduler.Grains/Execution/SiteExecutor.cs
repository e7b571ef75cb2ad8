namespace Scheduler.Grains.Execution;

using Scheduler.Core.Accounting;
using Scheduler.Core.Execution;
using Scheduler.Core.Lifecycle;

/// <summary>
/// The seam between a site's bookkeeping (<see cref="SiteGrain"/>: the power balance, which jobs are bound) and what
/// actually runs its jobs. The default is <see cref="ClockExecutor"/>: a job progresses with the clock. A site whose
/// agent attached uses <see cref="AgentExecutor"/>: real processes, progress as the agent reports it. A Kubernetes or
/// Slurm executor would be a third implementation fed by the same calls (see docs/agents.md).
/// </summary>
internal interface ISiteExecutor
{
    /// <summary>A running job's load over a step of <paramref name="hours"/>, and the work to credit for it.</summary>
    /// <param name="remainingGpuHours">The job's work left, as the site has counted it.</param>
    JobLoad Load(JobState job, double remainingGpuHours, double hours);

    /// <summary>The job is bound here and may run now (placed, resumed, landed, or its checkpoint arrived).</summary>
    void Run(JobState job);

    /// <summary>The site lets the job go; with <paramref name="keepState"/>, its state is to be checkpointed. Returns whether a checkpoint was ordered.</summary>
    bool Release(string jobId, long epoch, bool keepState);

    /// <summary>The job completed: the executor forgets it.</summary>
    void Completed(string jobId);

    /// <summary>Jobs the executor can no longer run as of <paramref name="now"/>; they are unbound by the caller.</summary>
    IReadOnlyList<LostJob> TakeLost(IReadOnlyCollection<JobAssignment> bound, DateTimeOffset now);
}

/// <summary>The built-in executor: a running job does GPUs × time of work, as replay and the demo have always had it.</summary>
internal sealed class ClockExecutor : ISiteExecutor
{
    public static ClockExecutor Instance { get; } = new();

    public JobLoad Load(JobState job, double remainingGpuHours, double hours) =>
        new(job.Id, job.Spec.Gpus, Math.Min(1, remainingGpuHours / (job.Spec.Gpus * hours)), job.Spec.TokensPerGpuHour);

    public void Run(JobState job) { }

    public bool Release(string jobId, long epoch, bool keepState) => false;

    public void Completed(string jobId) { }

    public IReadOnlyList<LostJob> TakeLost(IReadOnlyCollection<JobAssignment> bound, DateTimeOffset now) => [];
}
