namespace Scheduler.Scenarios.Tests;

/// <summary>Where the tests find data: the bundled copies next to the test assembly, and the shared originals if present.</summary>
internal static class TestData
{
    public static string Bundled(string fileName) => Path.Combine(AppContext.BaseDirectory, "data", fileName);

    /// <summary>
    /// The shared data folder (<c>SCHEDULER_SHARED_DATA</c>, else a <c>shared/data</c> folder beside an ancestor of the test
    /// assembly, as in a checkout next to it); null when absent, e.g. on a machine with only the repository.
    /// </summary>
    public static string? SharedDirectory { get; } = FindShared();

    /// <summary>Full path of a shared original (e.g. <c>workload/openb_pod_list_default.csv</c>), or null when absent.</summary>
    public static string? Shared(string relativePath)
    {
        if (SharedDirectory is null) return null;
        var path = Path.Combine(SharedDirectory, relativePath);
        return File.Exists(path) ? path : null;
    }

    private static string? FindShared()
    {
        // An explicit setting wins, even when it points nowhere: that is how to check the skips.
        if (Environment.GetEnvironmentVariable("SCHEDULER_SHARED_DATA") is { Length: > 0 } env) return Directory.Exists(env) ? env : null;
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "shared", "data");
            if (Directory.Exists(candidate)) return candidate;
        }
        return null;
    }
}
