namespace Scheduler.Agent;

using System.Runtime.InteropServices;

/// <summary>
/// Sends SIGTERM, which .NET has no API for (Process.Kill sends SIGKILL). POSIX only: the agent's checkpoint contract
/// is a signal, so Windows hosts are not supported (a Windows executor would need its own request mechanism).
/// </summary>
internal static class PosixSignals
{
    private const int SigTerm = 15;

    // DllImport rather than LibraryImport: no marshalling is needed for two ints, and no unsafe code for it.
    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int signal);

    /// <summary>Asks the process to checkpoint and exit; false if the signal could not be sent (it has exited).</summary>
    public static bool Terminate(int pid) => Kill(pid, SigTerm) == 0;
}
