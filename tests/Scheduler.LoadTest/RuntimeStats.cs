namespace Scheduler.LoadTest;

using System.Diagnostics;

/// <summary>
/// What the runtime did during a scenario: GC pauses and collections, CPU time, thread-pool threads, allocations; and
/// on Linux, the CPU time every other process on the machine used meanwhile (from /proc/stat), which shows whether
/// the machine was shared during the measurement.
/// </summary>
internal sealed record RuntimeStats(
    double GcPauseMs, int Gen0, int Gen1, int Gen2, double CpuSeconds, double CpuUtilisation, int ThreadPoolThreads, double AllocatedMiB,
    double? OtherProcessesCpuSeconds)
{
    /// <summary>Starts measuring; call the returned function at the end.</summary>
    public static Func<RuntimeStats> Start()
    {
        var pause = GC.GetTotalPauseDuration();
        int g0 = GC.CollectionCount(0), g1 = GC.CollectionCount(1), g2 = GC.CollectionCount(2);
        var cpu = Process.GetCurrentProcess().TotalProcessorTime;
        var allocated = GC.GetTotalAllocatedBytes();
        var machineBusy = MachineBusySeconds();
        var started = Stopwatch.GetTimestamp();
        return () =>
        {
            var cpuSeconds = (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalSeconds;
            return new RuntimeStats(
                Math.Round((GC.GetTotalPauseDuration() - pause).TotalMilliseconds, 1),
                GC.CollectionCount(0) - g0, GC.CollectionCount(1) - g1, GC.CollectionCount(2) - g2,
                Math.Round(cpuSeconds, 2),
                Math.Round(cpuSeconds / Stopwatch.GetElapsedTime(started).TotalSeconds / Environment.ProcessorCount, 3),
                ThreadPool.ThreadCount,
                Math.Round((GC.GetTotalAllocatedBytes() - allocated) / 1048576.0, 1),
                MachineBusySeconds() - machineBusy - cpuSeconds is { } other ? Math.Round(Math.Max(0, other), 2) : null);
        };
    }

    /// <summary>CPU seconds the whole machine has been busy (all states but idle and iowait), from /proc/stat; null elsewhere.</summary>
    private static double? MachineBusySeconds()
    {
        const string stat = "/proc/stat";
        if (!File.Exists(stat)) return null;
        var fields = File.ReadLines(stat).First().Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1).Take(8).Select(long.Parse).ToArray();
        if (fields.Length < 5) return null;
        const double ticksPerSecond = 100; // USER_HZ on Linux
        return (fields.Sum() - fields[3] - fields[4]) / ticksPerSecond;
    }
}
