namespace Scheduler.Agent;

using Scheduler.Api.V1;

/// <summary>
/// The agent's jobs: one slot per job with the highest epoch seen and the process running for it. Commands are
/// idempotent and ordered by epoch: an older epoch than the slot's is refused (and reported as refused), the same
/// epoch again repeats what was reported for it, a newer one is carried out. Each job's commands run one after the
/// other (a checkpoint can take its whole grace period); different jobs' commands do not wait for each other.
/// </summary>
internal sealed class JobSupervisor(AgentOptions options, CheckpointStore store, Action<AgentMessage> send, TextWriter log) : IAsyncDisposable
{
    /// <summary>Exit codes of the workload contract (docs/agents.md).</summary>
    public const int ExitCompleted = 0, ExitCheckpointed = 75;

    private sealed class Slot
    {
        public long Epoch = -1;
        public JobProcess? Process;
        /// <summary>The reports that answered the latest checkpoint or stop, repeated if the command comes again.</summary>
        public List<AgentMessage> Answer = [];
        public Task Tail = Task.CompletedTask;
    }

    private readonly Dictionary<string, Slot> _slots = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();

    /// <summary>The directory of a job's files on this site: its log (job.log), checkpoints being written, restores.</summary>
    public string JobDirectory(string jobId) => Path.Combine(options.WorkDirectory, "jobs", jobId);

    /// <summary>Job instances with a live process, for the hello of a reconnect.</summary>
    public IReadOnlyList<RunningJob> Running()
    {
        lock (_lock)
            return _slots.Where(s => s.Value.Process is { Exited.IsCompleted: false })
                .Select(s => new RunningJob { JobId = s.Key, Epoch = s.Value.Process!.Epoch }).ToList();
    }

    /// <summary>The latest progress of every live process (sent every report interval).</summary>
    public IReadOnlyList<AgentMessage> Progress()
    {
        lock (_lock)
            return _slots.Values.Select(s => s.Process).Where(p => p is { Exited.IsCompleted: false, Progress: not null })
                .Select(p =>
                {
                    var report = new JobProgress { JobId = p!.JobId, Epoch = p.Epoch, WorkDone = p.Progress!.Value.Done, WorkTotal = p.Progress.Value.Total };
                    if (options.EstimatedPowerKilowatts is { } kw) { report.PowerKw = kw; report.PowerMeasured = false; }
                    return new AgentMessage { Progress = report };
                }).ToList();
    }

    /// <summary>Queues a command behind the job's earlier ones; returns the task that carries it out.</summary>
    public Task Dispatch(AgentCommand command)
    {
        var jobId = command.BodyCase switch
        {
            AgentCommand.BodyOneofCase.Start => command.Start.JobId,
            AgentCommand.BodyOneofCase.Checkpoint => command.Checkpoint.JobId,
            AgentCommand.BodyOneofCase.Stop => command.Stop.JobId,
            _ => null,
        };
        if (jobId is null) return Task.CompletedTask;
        lock (_lock)
        {
            if (!_slots.TryGetValue(jobId, out var slot)) _slots[jobId] = slot = new Slot();
            slot.Tail = slot.Tail.ContinueWith(_ => HandleAsync(jobId, slot, command), TaskScheduler.Default).Unwrap();
            return slot.Tail;
        }
    }

    private async Task HandleAsync(string jobId, Slot slot, AgentCommand command)
    {
        try
        {
            switch (command.BodyCase)
            {
                case AgentCommand.BodyOneofCase.Start: await StartAsync(jobId, slot, command.Start); break;
                case AgentCommand.BodyOneofCase.Checkpoint: await EndAsync(jobId, slot, command.Checkpoint.Epoch, checkpoint: true); break;
                case AgentCommand.BodyOneofCase.Stop: await EndAsync(jobId, slot, command.Stop.Epoch, checkpoint: false); break;
            }
        }
        catch (Exception ex)
        {
            await log.WriteLineAsync($"job {jobId}: {command.BodyCase} failed: {ex.Message}");
        }
    }

    /// <summary>False (and a refusal sent) for a command older than an epoch the job has had here.</summary>
    private bool Admit(string jobId, Slot slot, long epoch, string kind)
    {
        if (epoch >= slot.Epoch) return true;
        send(new AgentMessage { Refused = new JobRefused { JobId = jobId, Epoch = epoch, Reason = $"{kind}: stale epoch {epoch} < {slot.Epoch}" } });
        return false;
    }

    private async Task StartAsync(string jobId, Slot slot, StartJob start)
    {
        if (!Admit(jobId, slot, start.Epoch, "start")) return;
        if (start.Epoch == slot.Epoch && slot.Process is { } same && same.Epoch == start.Epoch)
        {
            // Told again (a reconnect): it is running, or it has exited and said so; say it again.
            send(new AgentMessage { Started = new JobStarted { JobId = jobId, Epoch = start.Epoch, Restored = start.RestoreFrom.Length > 0 } });
            if (same.Exited.IsCompleted) send(Exited(jobId, start.Epoch, same.Exited.Result));
            return;
        }
        slot.Epoch = start.Epoch;
        if (slot.Process is { } older) await older.DisposeAsync(); // an older instance must not run beside the new one
        slot.Answer = [];
        if (start.Workload is null)
        {
            send(Exited(jobId, start.Epoch, -1, "the job has no workload to run"));
            return;
        }
        var directory = JobDirectory(jobId);
        Directory.CreateDirectory(directory);
        string? restore = null;
        if (start.RestoreFrom.Length > 0)
        {
            try
            {
                var fetched = await store.FetchAsync(start.RestoreFrom, Path.Combine(directory, $"restore-e{start.Epoch}"), CancellationToken.None);
                restore = fetched.Directory;
                await log.WriteLineAsync($"job {jobId}: restored {start.RestoreFrom} ({fetched.BytesCopied} bytes copied, {fetched.FilesReused} files already here)");
            }
            catch (Exception ex) when (ex is IOException or InvalidDataException or ArgumentException or UnauthorizedAccessException)
            {
                send(Exited(jobId, start.Epoch, -2, $"could not restore {start.RestoreFrom}: {ex.Message}"));
                return;
            }
        }
        JobProcess process;
        try { process = JobProcess.Start(jobId, start.Epoch, start.Workload, directory, restore); }
        catch (Exception ex) when (ex is System.ComponentModel.Win32Exception or InvalidOperationException or IOException)
        {
            send(Exited(jobId, start.Epoch, -3, $"could not start: {ex.Message}"));
            return;
        }
        lock (_lock) slot.Process = process;
        send(new AgentMessage { Started = new JobStarted { JobId = jobId, Epoch = start.Epoch, Restored = restore is not null } });
        _ = ReportExitAsync(jobId, slot, process);
    }

    /// <summary>A process that exits on its own (done, or failed) says so; one ended by a command is reported by it.</summary>
    private async Task ReportExitAsync(string jobId, Slot slot, JobProcess process)
    {
        var code = await process.Exited;
        lock (_lock)
            if (slot.Process != process || slot.Epoch != process.Epoch) return;
        // Progress first: the final count, so the site has it before the exit.
        if (process.Progress is { } p) send(new AgentMessage { Progress = new JobProgress { JobId = jobId, Epoch = process.Epoch, WorkDone = p.Done, WorkTotal = p.Total } });
        send(Exited(jobId, process.Epoch, code));
    }

    private async Task EndAsync(string jobId, Slot slot, long epoch, bool checkpoint)
    {
        var kind = checkpoint ? "checkpoint" : "stop";
        if (!Admit(jobId, slot, epoch, kind)) return;
        if (epoch == slot.Epoch && slot.Answer.Count > 0)
        {
            slot.Answer.ForEach(send); // the same command again: the same answer
            return;
        }
        slot.Epoch = epoch; // from now on the instance's own reports are stale; its end is reported at this epoch
        var process = slot.Process;
        var answer = new List<AgentMessage>();
        if (process is null || process.Exited.IsCompleted)
        {
            if (checkpoint) answer.Add(Checkpointed(jobId, epoch, null, "no process running"));
            answer.Add(Exited(jobId, epoch, process?.Exited.Result ?? -1, "not running"));
        }
        else
        {
            var code = await process.CheckpointAsync(options.CheckpointGrace);
            if (checkpoint) answer.Add(await PublishAsync(jobId, epoch, process, code));
            answer.Add(Exited(jobId, epoch, code, checkpoint ? "checkpoint requested" : "stop requested"));
        }
        lock (_lock) if (slot.Process == process) slot.Process = null;
        if (process is not null) await process.DisposeAsync();
        slot.Answer = answer;
        answer.ForEach(send);
    }

    private async Task<AgentMessage> PublishAsync(string jobId, long epoch, JobProcess process, int code)
    {
        if (code != ExitCheckpointed)
            return Checkpointed(jobId, epoch, null, code == ExitCompleted ? "the process finished instead" : $"exit code {code}, not {ExitCheckpointed}");
        try
        {
            var (manifest, sha) = await store.PublishAsync(jobId, epoch, process.CheckpointDirectory, CancellationToken.None);
            return new AgentMessage { Checkpointed = new JobCheckpointed { JobId = jobId, Epoch = epoch, Reference = manifest.Reference, Bytes = manifest.TotalBytes, Sha256 = sha } };
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return Checkpointed(jobId, epoch, null, $"publishing failed: {ex.Message}");
        }
    }

    private AgentMessage Checkpointed(string jobId, long epoch, string? reference, string why)
    {
        log.WriteLine($"job {jobId}: no checkpoint at epoch {epoch}: {why}");
        return new AgentMessage { Checkpointed = new JobCheckpointed { JobId = jobId, Epoch = epoch, Reference = reference ?? "" } };
    }

    private static AgentMessage Exited(string jobId, long epoch, int code, string? reason = null) => new()
    {
        Exited = new JobExited
        {
            JobId = jobId, Epoch = epoch, Code = code,
            Reason = reason ?? code switch { ExitCompleted => "completed", ExitCheckpointed => "checkpointed", _ => "failed" },
        },
    };

    /// <summary>Kills every process (the agent is going away; the scheduler restores the jobs elsewhere).</summary>
    public async ValueTask DisposeAsync()
    {
        List<JobProcess> processes;
        lock (_lock) processes = _slots.Values.Select(s => s.Process).OfType<JobProcess>().ToList();
        foreach (var p in processes) await p.DisposeAsync();
    }
}
