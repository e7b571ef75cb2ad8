namespace Scheduler.Core.Execution;

/// <summary>
/// What a site agent runs for a job: a command line with its arguments and environment. Container images are not a
/// field here: they are for a Kubernetes executor, which would take an image reference through the same seam.
/// </summary>
/// <param name="Command">The program to run (a path or a name on the agent's PATH).</param>
/// <param name="Arguments">Its arguments, passed as they are (no shell).</param>
/// <param name="Environment">Extra environment variables; names starting with <c>SCHEDULER_</c> are the agent's.</param>
public sealed record WorkloadSpec(string Command, IReadOnlyList<string> Arguments, IReadOnlyDictionary<string, string> Environment)
{
    /// <summary>Environment variables the agent sets itself; a workload spec may not set them.</summary>
    public const string ReservedEnvironmentPrefix = "SCHEDULER_";

    // Value equality over the lists, so a retried CreateJob with the same workload is the same ask.
    public bool Equals(WorkloadSpec? other) =>
        other is not null && Command == other.Command && Arguments.SequenceEqual(other.Arguments, StringComparer.Ordinal)
        && Environment.Count == other.Environment.Count
        && Environment.All(e => other.Environment.TryGetValue(e.Key, out var v) && v == e.Value);

    public override int GetHashCode() => HashCode.Combine(Command, Arguments.Count, Environment.Count);
}

/// <summary>The workload contract between an agent and the process it runs (see docs/agents.md).</summary>
public static class WorkloadContract
{
    /// <summary>The job's id.</summary>
    public const string JobIdVariable = "SCHEDULER_JOB_ID";

    /// <summary>An empty directory the process writes its checkpoint into.</summary>
    public const string CheckpointDirVariable = "SCHEDULER_CHECKPOINT_DIR";

    /// <summary>On a restore only: the directory holding the checkpoint to resume from.</summary>
    public const string RestoreFromVariable = "SCHEDULER_RESTORE_FROM";

    /// <summary>Exit code: all the job's work is done.</summary>
    public const int ExitCompleted = 0;

    /// <summary>Exit code after a checkpoint request: the checkpoint is written, work remains (EX_TEMPFAIL).</summary>
    public const int ExitCheckpointed = 75;

    /// <summary>A stdout line "SCHEDULER_PROGRESS DONE TOTAL" reports work done so far in the workload's own units.</summary>
    public const string ProgressLinePrefix = "SCHEDULER_PROGRESS ";
}
