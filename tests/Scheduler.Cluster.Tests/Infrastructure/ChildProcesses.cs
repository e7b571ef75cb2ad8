namespace Scheduler.Cluster.Tests.Infrastructure;

using System.Collections.Concurrent;
using System.Diagnostics;

/// <summary>
/// Processes the tests started (silos, redis-server). Tests dispose them; this is the last line: if the test host
/// exits without disposing (an aborted run), every child still alive is killed with it.
/// </summary>
internal static class ChildProcesses
{
    private static readonly ConcurrentDictionary<int, Process> Live = new();

    static ChildProcesses() => AppDomain.CurrentDomain.ProcessExit += (_, _) =>
    {
        foreach (var process in Live.Values)
            try { if (!process.HasExited) process.Kill(); } catch (InvalidOperationException) { }
    };

    public static Process Track(Process process)
    {
        Live[process.Id] = process;
        process.Exited += (_, _) => Live.TryRemove(process.Id, out _);
        process.EnableRaisingEvents = true;
        return process;
    }
}
