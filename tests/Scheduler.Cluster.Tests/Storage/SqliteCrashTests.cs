namespace Scheduler.Cluster.Tests.Storage;

using System.Diagnostics;
using Orleans;
using Orleans.Runtime;
using Scheduler.Cluster.Tests.Infrastructure;

/// <summary>
/// The SQLite storage keeps every write it acknowledged when its process is killed mid-run (WAL,
/// <c>synchronous=NORMAL</c>): a child process writes as fast as it can and prints each write once
/// <c>WriteStateAsync</c> has returned; the test kills it with SIGKILL and reads every acknowledged write back.
/// </summary>
public sealed class SqliteCrashTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "scheduler-crash-" + Guid.NewGuid().ToString("N")[..8]);

    [Fact]
    public async Task SqliteGrainStorage_KeepsEveryAcknowledgedWrite_WhenTheWriterIsKilled()
    {
        Directory.CreateDirectory(_directory);
        var database = Path.Combine(_directory, "crash.db");
        var start = new ProcessStartInfo(DotnetHost.Path) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(typeof(Program).Assembly.Location);
        start.ArgumentList.Add("sqlite-writer");
        start.ArgumentList.Add(database);
        using var child = Process.Start(start)!;
        var acknowledged = new List<int>();
        var killAfter = 150 + Random.Shared.Next(150);
        try
        {
            while (await child.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(60)) is { } line)
            {
                if (!line.StartsWith("ack ", StringComparison.Ordinal)) continue;
                acknowledged.Add(int.Parse(line[4..], System.Globalization.CultureInfo.InvariantCulture));
                if (acknowledged.Count == killAfter) child.Kill(); // SIGKILL: no flush, no dispose
            }
        }
        finally
        {
            if (!child.HasExited) child.Kill();
            await child.WaitForExitAsync();
        }
        Assert.True(acknowledged.Count >= killAfter, $"the writer stopped after {acknowledged.Count} writes: {await child.StandardError.ReadToEndAsync()}");

        var storage = StorageBackends.Sqlite(database);
        foreach (var i in acknowledged)
        {
            var state = new ProbeGrainState();
            await storage.ReadStateAsync("probe", Key(i), state);
            Assert.True(state.RecordExists, $"acknowledged write {i} is missing");
            Assert.Equal(i, state.State.Value);
        }
        var counter = new ProbeGrainState();
        await storage.ReadStateAsync("probe", CounterKey, counter);
        Assert.True(counter.State.Value >= acknowledged.Max(), $"counter {counter.State.Value} is behind the last acknowledged write {acknowledged.Max()}");
    }

    private static GrainId Key(int i) => GrainId.Create("crash", i.ToString(System.Globalization.CultureInfo.InvariantCulture));

    private static readonly GrainId CounterKey = GrainId.Create("crash", "counter");

    /// <summary>The child: one new record and one counter update per step, "ack N" after both returned.</summary>
    public static async Task<int> RunWriterAsync(string database)
    {
        var storage = StorageBackends.Sqlite(database);
        var counter = new ProbeGrainState();
        await storage.ReadStateAsync("probe", CounterKey, counter);
        for (var i = 0; ; i++)
        {
            await storage.WriteStateAsync("probe", Key(i), new ProbeGrainState { State = new ProbeState { Value = i, Writer = "child" } });
            counter.State.Value = i;
            await storage.WriteStateAsync("probe", CounterKey, counter);
            Console.Out.WriteLine($"ack {i}");
            await Console.Out.FlushAsync();
        }
    }

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try { Directory.Delete(_directory, recursive: true); } catch (IOException) { }
    }
}
