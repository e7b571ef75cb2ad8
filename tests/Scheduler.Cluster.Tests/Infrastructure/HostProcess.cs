namespace Scheduler.Cluster.Tests.Infrastructure;

using System.Diagnostics;

/// <summary>
/// One of the system's own programs run as an operator runs it, <c>dotnet PROGRAM.dll ARGS</c> from the test's output
/// directory, its console appended to a log file. It can be killed (SIGKILL), stopped (SIGTERM) and started again with
/// the same arguments, so its ports, and the addresses clients use, stay the same across restarts.
/// </summary>
public sealed class HostProcess(string program, IReadOnlyList<string> args, string logPath) : IDisposable
{
    private Process? _process;

    public string LogPath { get; } = logPath;
    public bool IsRunning => _process is { HasExited: false };

    public void Start()
    {
        var start = new ProcessStartInfo(DotnetHost.Path)
        {
            UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true,
            WorkingDirectory = AppContext.BaseDirectory,
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, program));
        foreach (var arg in args) start.ArgumentList.Add(arg);
        start.Environment["DOTNET_gcServer"] = "0"; // several processes share two cores with the test
        var log = new StreamWriter(LogPath, append: true) { AutoFlush = true };
        _process = ChildProcesses.Track(Process.Start(start) ?? throw new InvalidOperationException($"{program} did not start"));
        _process.OutputDataReceived += (_, e) => { if (e.Data is { } line) lock (log) log.WriteLine(line); };
        _process.ErrorDataReceived += (_, e) => { if (e.Data is { } line) lock (log) log.WriteLine(line); };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    /// <summary>SIGKILL: the process dies at once, as on a machine crash.</summary>
    public void Kill()
    {
        if (IsRunning) _process!.Kill();
        _process?.WaitForExit(10_000);
    }

    /// <summary>SIGTERM, as an orchestrator stops a pod; SIGKILL if it has not exited within <paramref name="timeout"/>.</summary>
    public async Task StopAsync(TimeSpan timeout)
    {
        if (!IsRunning) return;
        using (var kill = Process.Start("kill", ["-TERM", _process!.Id.ToString()])) await kill.WaitForExitAsync();
        using var wait = new CancellationTokenSource(timeout);
        try { await _process.WaitForExitAsync(wait.Token); }
        catch (OperationCanceledException) { Kill(); }
    }

    public string[] ReadLog()
    {
        if (!File.Exists(LogPath)) return [];
        using var stream = new FileStream(LogPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd().Split('\n');
    }

    public string Tail(int lines = 30) => File.Exists(LogPath) ? string.Join('\n', ReadLog().TakeLast(lines)) : "(no log)";

    public void Dispose()
    {
        Kill();
        _process?.Dispose();
    }
}
