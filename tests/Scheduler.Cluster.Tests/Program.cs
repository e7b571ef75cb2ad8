namespace Scheduler.Cluster.Tests;

using Scheduler.Cluster.Tests.Storage;

/// <summary>
/// The test assembly is also a small program, so a test can run a writer in a child process and kill it:
/// <c>dotnet Scheduler.Cluster.Tests.dll sqlite-writer DB_PATH</c>.
/// </summary>
public static class Program
{
    public static async Task<int> Main(string[] args) => args switch
    {
        ["sqlite-writer", var path] => await SqliteCrashTests.RunWriterAsync(path),
        _ => 2,
    };
}
