namespace Scheduler.Grains.Execution;

using Scheduler.Core.Accounting;
using Scheduler.Core.Execution;
using Scheduler.Core.Lifecycle;

/// <summary>Where one job stands with the site's agent.</summary>
public enum AgentJobPhase
{
    /// <summary>Told to start; no report yet.</summary>
    Starting,
    /// <summary>The agent reported the process started.</summary>
    Running,
    /// <summary>Told to checkpoint and exit; the job is bound elsewhere (or paused).</summary>
    Checkpointing,
    /// <summary>Told to stop; its state is not needed.</summary>
    Stopping,
    /// <summary>The process exited with code 0: all work done, credited on the next step.</summary>
    Completed,
    /// <summary>The process exited on its own with another code.</summary>
    Failed,
}

/// <summary>One job as the site's agent knows it.</summary>
[GenerateSerializer]
public sealed class AgentJob
{
    [Id(0)] public long Epoch { get; set; }
    [Id(1)] public AgentJobPhase Phase { get; set; }
    [Id(2)] public double WorkDone { get; set; }
    [Id(3)] public double WorkTotal { get; set; }
    [Id(4)] public double? PowerKilowatts { get; set; }
    [Id(5)] public string? ExitReason { get; set; }
}

/// <summary>A site's agent: the current connection, what it runs, and the latest command per job.</summary>
[GenerateSerializer]
public sealed class SiteAgentState
{
    /// <summary>The attached connection's session id; null while no agent is attached.</summary>
    [Id(0)] public string? Session { get; set; }
    [Id(1)] public string? AgentId { get; set; }
    /// <summary>When the last connection ended (scheduler time); null while attached.</summary>
    [Id(2)] public DateTimeOffset? DetachedAt { get; set; }
    [Id(3)] public Dictionary<string, AgentJob> Jobs { get; set; } = new(StringComparer.Ordinal);
    /// <summary>The latest command for each job: the desired state, issued again on every reconnect.</summary>
    [Id(4)] public Dictionary<string, AgentCommand> Commands { get; set; } = new(StringComparer.Ordinal);
    [Id(5)] public long CommandSequence { get; set; }
}

/// <summary>
/// Runs a site's jobs through its agent. Keeps the desired state as one latest command per job (so a reconnect
/// re-issues exactly what is needed, and a command can never be lost for good), and credits work from the agent's
/// reports (<see cref="AgentWork"/>). A job whose agent is gone for longer than the reconnect grace is lost.
/// </summary>
internal sealed class AgentExecutor(SiteAgentState agent, TimeSpan reconnectGrace, Action commandsChanged) : ISiteExecutor
{
    public JobLoad Load(JobState job, double remainingGpuHours, double hours)
    {
        // A job with nothing to run (the demo's, a replay's) is the clock's at any site: only workloads go to the agent.
        if (job.Spec.Workload is null) return ClockExecutor.Instance.Load(job, remainingGpuHours, hours);
        if (!agent.Jobs.TryGetValue(job.Id, out var a) || a.Epoch != job.Epoch || a.Phase is AgentJobPhase.Starting)
            return new JobLoad(job.Id, job.Spec.Gpus, 0, job.Spec.TokensPerGpuHour, 0); // not running yet: no power, no work
        var credit = AgentWork.CreditGpuHours(job, remainingGpuHours, a.WorkDone, a.WorkTotal, a.Phase == AgentJobPhase.Completed);
        return new JobLoad(job.Id, job.Spec.Gpus, 1, job.Spec.TokensPerGpuHour, credit, a.PowerKilowatts / 1000);
    }

    public void Run(JobState job)
    {
        if (job.Spec.Workload is null) return; // the clock's (see Load)
        if (job.CheckpointPending) return; // starts once the checkpoint it restores from has arrived
        if (agent.Jobs.TryGetValue(job.Id, out var a) && a.Epoch == job.Epoch && a.Phase != AgentJobPhase.Checkpointing && a.Phase != AgentJobPhase.Stopping)
            return; // already told (idempotent)
        agent.Jobs[job.Id] = new AgentJob { Epoch = job.Epoch, Phase = AgentJobPhase.Starting };
        Issue(AgentCommandKind.Start, job.Id, job.Epoch, job.Spec.Workload, job.CheckpointReference,
            job.CheckpointReference is null ? "placed" : "restore");
    }

    public bool Release(string jobId, long epoch, bool keepState)
    {
        if (!agent.Jobs.TryGetValue(jobId, out var a) || a.Phase is AgentJobPhase.Completed or AgentJobPhase.Failed)
        {
            agent.Jobs.Remove(jobId);
            if (agent.Commands.Remove(jobId)) commandsChanged();
            return false;
        }
        // A process that has not reported its start has nothing to checkpoint yet: the previous checkpoint still holds.
        var checkpoint = keepState && a.Phase == AgentJobPhase.Running;
        a.Epoch = epoch;
        a.Phase = checkpoint ? AgentJobPhase.Checkpointing : AgentJobPhase.Stopping;
        Issue(checkpoint ? AgentCommandKind.Checkpoint : AgentCommandKind.Stop, jobId, epoch, null, null, checkpoint ? "relocate-or-pause" : "released");
        return checkpoint;
    }

    public void Completed(string jobId)
    {
        agent.Jobs.Remove(jobId);
        if (agent.Commands.Remove(jobId)) commandsChanged();
    }

    public IReadOnlyList<LostJob> TakeLost(IReadOnlyCollection<JobAssignment> bound, DateTimeOffset now)
    {
        var lost = new List<LostJob>();
        if (agent.Session is null && agent.DetachedAt is { } gone && now - gone >= reconnectGrace)
        {
            var reason = $"agent '{agent.AgentId}' gone since {gone:O}";
            lost.AddRange(bound.Select(b => new LostJob(b.Job.Id, b.Job.Epoch, reason, Failed: false)));
            // Checkpoints it was taking will never come: their jobs stop waiting.
            lost.AddRange(agent.Jobs.Where(j => j.Value.Phase == AgentJobPhase.Checkpointing && bound.All(b => b.Job.Id != j.Key))
                .Select(j => new LostJob(j.Key, j.Value.Epoch, reason, Failed: false)));
            agent.Jobs.Clear();
            agent.Commands.Clear();
            return lost;
        }
        foreach (var job in bound.Select(b => b.Job))
            if (agent.Jobs.TryGetValue(job.Id, out var a) && a.Epoch == job.Epoch && a.Phase == AgentJobPhase.Failed)
            {
                lost.Add(new LostJob(job.Id, job.Epoch, a.ExitReason ?? "process failed", Failed: true));
                Completed(job.Id);
            }
        return lost;
    }

    /// <summary>A new connection: it is the site's agent now, and every current command is issued again.</summary>
    public string Attach(AgentHello hello)
    {
        agent.Session = Guid.NewGuid().ToString("N");
        agent.AgentId = hello.AgentId;
        agent.DetachedAt = null;
        foreach (var command in agent.Commands.Values.OrderBy(c => c.Sequence).ToList())
            agent.Commands[command.JobId] = command with { Sequence = ++agent.CommandSequence };
        foreach (var running in hello.Running)
        {
            if (!agent.Jobs.TryGetValue(running.JobId, out var expected))
            {
                // A process the site does not expect (the job moved on, or ended, while the agent was away): stop it.
                Issue(AgentCommandKind.Stop, running.JobId, running.Epoch, null, null, "not-bound-here");
                agent.Jobs[running.JobId] = new AgentJob { Epoch = running.Epoch, Phase = AgentJobPhase.Stopping };
            }
            else if (expected.Epoch == running.Epoch && expected.Phase == AgentJobPhase.Starting) expected.Phase = AgentJobPhase.Running;
            // Another epoch: the command for the site's epoch was just issued again, and the agent orders it by epoch.
        }
        commandsChanged();
        return agent.Session;
    }

    public void Detach(string session, DateTimeOffset now)
    {
        if (agent.Session != session) return;
        agent.Session = null;
        agent.DetachedAt = now;
        commandsChanged();
    }

    /// <summary>Records a report; false if it is for an epoch this site no longer runs.</summary>
    public bool Report(AgentReport report)
    {
        if (!agent.Jobs.TryGetValue(report.JobId, out var a) || report.Epoch != a.Epoch) return false;
        switch (report.Kind)
        {
            case AgentReportKind.Started:
                if (a.Phase == AgentJobPhase.Starting) a.Phase = AgentJobPhase.Running;
                break;
            case AgentReportKind.Progress:
                if (a.Phase == AgentJobPhase.Starting) a.Phase = AgentJobPhase.Running;
                a.WorkDone = report.WorkDone;
                a.WorkTotal = report.WorkTotal;
                a.PowerKilowatts = report.PowerKilowatts;
                break;
            case AgentReportKind.Checkpointed:
                break; // the job's record takes it (the API hands it to the job grain)
            case AgentReportKind.Exited:
                if (a.Phase is AgentJobPhase.Checkpointing or AgentJobPhase.Stopping)
                {
                    Completed(report.JobId); // it was let go: nothing more to do here
                    break;
                }
                a.Phase = report.ExitCode == WorkloadContract.ExitCompleted ? AgentJobPhase.Completed : AgentJobPhase.Failed;
                a.ExitReason = $"exit code {report.ExitCode}: {report.Reason}";
                break;
        }
        return true;
    }

    public SiteExecutorStatus Status() => new(SiteExecutorStatus.Agent, agent.Session is not null, agent.AgentId, agent.DetachedAt,
        agent.Jobs.Select(j => new AgentJobStatus(j.Key, j.Value.Epoch, j.Value.Phase.ToString().ToLowerInvariant(), j.Value.WorkDone,
            j.Value.WorkTotal, j.Value.PowerKilowatts)).OrderBy(j => j.JobId, StringComparer.Ordinal).ToList());

    private void Issue(AgentCommandKind kind, string jobId, long epoch, WorkloadSpec? workload, string? restoreFrom, string reason)
    {
        agent.Commands[jobId] = new AgentCommand(++agent.CommandSequence, kind, jobId, epoch, workload, restoreFrom, reason);
        commandsChanged();
    }
}
