namespace Scheduler.Agent;

using System.Diagnostics;
using System.Globalization;
using Scheduler.Api.V1;

/// <summary>
/// One running instance of a job's workload: a local process with the workload contract's environment, its output
/// appended to the job's log, its progress lines parsed. It is asked to checkpoint with SIGTERM and killed if it has
/// not exited within the grace period.
/// </summary>
internal sealed class JobProcess : IAsyncDisposable
{
    // The contract's names, as docs/agents.md states them (the agent uses the public contract only, not the core).
    public const string JobIdVariable = "SCHEDULER_JOB_ID", CheckpointDirVariable = "SCHEDULER_CHECKPOINT_DIR",
        RestoreFromVariable = "SCHEDULER_RESTORE_FROM", ProgressPrefix = "SCHEDULER_PROGRESS ";

    private readonly Process _process;
    private readonly StreamWriter _log;
    private readonly Task _output;
    private readonly TaskCompletionSource<int> _exited = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Lock _logLock = new();

    private JobProcess(string jobId, long epoch, Process process, StreamWriter log, string checkpointDirectory)
    {
        JobId = jobId;
        Epoch = epoch;
        _process = process;
        _log = log;
        CheckpointDirectory = checkpointDirectory;
        _output = Task.WhenAll(PumpAsync(process.StandardOutput, parse: true), PumpAsync(process.StandardError, parse: false));
        _ = WaitForExitAsync();
    }

    public string JobId { get; }

    /// <summary>The epoch of the command that started this instance.</summary>
    public long Epoch { get; }

    public string CheckpointDirectory { get; }

    /// <summary>The latest progress line: work done and total, in the workload's units.</summary>
    public (double Done, double Total)? Progress { get; private set; }

    /// <summary>Completes with the exit code once the process has exited and its output is in the log.</summary>
    public Task<int> Exited => _exited.Task;

    public static JobProcess Start(string jobId, long epoch, Workload workload, string jobDirectory, string? restoreDirectory)
    {
        var checkpoint = Path.Combine(jobDirectory, $"checkpoint-e{epoch}");
        if (Directory.Exists(checkpoint)) Directory.Delete(checkpoint, recursive: true);
        Directory.CreateDirectory(checkpoint);
        var info = new ProcessStartInfo(workload.Command)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = jobDirectory,
        };
        foreach (var arg in workload.Args) info.ArgumentList.Add(arg);
        foreach (var (name, value) in workload.Env) info.Environment[name] = value;
        info.Environment[JobIdVariable] = jobId;
        info.Environment[CheckpointDirVariable] = checkpoint;
        if (restoreDirectory is not null) info.Environment[RestoreFromVariable] = restoreDirectory;
        else info.Environment.Remove(RestoreFromVariable);

        var log = new StreamWriter(new FileStream(Path.Combine(jobDirectory, "job.log"), FileMode.Append, FileAccess.Write, FileShare.Read)) { AutoFlush = true };
        log.WriteLine($"# {DateTimeOffset.UtcNow:O} start epoch {epoch}{(restoreDirectory is null ? "" : $" restore-from {restoreDirectory}")}");
        var process = Process.Start(info) ?? throw new InvalidOperationException($"could not start '{workload.Command}'");
        return new JobProcess(jobId, epoch, process, log, checkpoint);
    }

    /// <summary>SIGTERM: the process writes its checkpoint and exits. Killed if still running after <paramref name="grace"/>.</summary>
    public async Task<int> CheckpointAsync(TimeSpan grace)
    {
        if (!_exited.Task.IsCompleted) PosixSignals.Terminate(_process.Id);
        if (await Task.WhenAny(_exited.Task, Task.Delay(grace)) != _exited.Task)
        {
            Log($"# {DateTimeOffset.UtcNow:O} no exit within {grace.TotalSeconds:0.#} s of SIGTERM: killed");
            Kill();
        }
        return await _exited.Task;
    }

    /// <summary>Ends the process at once (its state is not needed, or the machine is going away).</summary>
    public void Kill()
    {
        try { if (!_process.HasExited) _process.Kill(entireProcessTree: true); }
        catch (InvalidOperationException) { } // already gone
    }

    private async Task WaitForExitAsync()
    {
        await _process.WaitForExitAsync();
        await _output;
        var code = _process.ExitCode;
        Log($"# {DateTimeOffset.UtcNow:O} exit {code}");
        _exited.TrySetResult(code);
    }

    private async Task PumpAsync(StreamReader reader, bool parse)
    {
        while (await reader.ReadLineAsync() is { } line)
        {
            Log(line);
            if (parse && line.StartsWith(ProgressPrefix, StringComparison.Ordinal))
            {
                var parts = line[ProgressPrefix.Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
                if (parts.Length == 2 && double.TryParse(parts[0], CultureInfo.InvariantCulture, out var done) && double.TryParse(parts[1], CultureInfo.InvariantCulture, out var total)
                    && double.IsFinite(done) && double.IsFinite(total) && done >= 0 && total > 0)
                    Progress = (done, total);
            }
        }
    }

    private void Log(string line)
    {
        lock (_logLock) _log.WriteLine(line);
    }

    public async ValueTask DisposeAsync()
    {
        Kill();
        await _exited.Task;
        lock (_logLock) _log.Dispose();
        _process.Dispose();
    }
}
