namespace Scheduler.Cluster.Tests.Storage;

using Orleans.Runtime;
using Scheduler.Storage.Sqlite;

/// <summary>
/// The SQLite storage checkpoints its write-ahead log off the writer's path (its own connection, not SQLite's automatic
/// checkpoint inside a commit): the log must still stay bounded under a steady stream of writes, not grow with them.
/// </summary>
public sealed class SqliteCheckpointTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "scheduler-checkpoint-" + Guid.NewGuid().ToString("N")[..8]);

    [Fact]
    public async Task TheWriteAheadLog_StaysBounded_UnderSteadyWrites()
    {
        Directory.CreateDirectory(_directory);
        var database = Path.Combine(_directory, "checkpoint.db");
        var storage = StorageBackends.Sqlite(database);
        const int writes = 640, bytesPerWrite = 256 << 10; // 160 MiB in all, five times the log's bound
        // Each write's content differs from the record's last (SQLite skips rewriting pages whose content is unchanged).
        static string Payload(int i) => new((char)('a' + i % 26), bytesPerWrite);
        // Four writers at once, so batches keep coming while a checkpoint runs; each rewrites its own ten records.
        var records = Enumerable.Range(0, 40).Select(_ => new ProbeGrainState()).ToArray();
        await Task.WhenAll(Enumerable.Range(0, 4).Select(w => Task.Run(async () =>
        {
            for (var i = w; i < writes; i += 4)
            {
                var record = records[i % 40];
                record.State = new ProbeState { Value = i, Writer = Payload(i) };
                await storage.WriteStateAsync("probe", Key(i % 40), record);
            }
        })));

        var wal = new FileInfo(database + "-wal");
        Assert.True(wal.Exists, "no write-ahead log: the database is not in WAL mode");
        // Without checkpoints the log holds every write (160 MiB); checkpointed, it starts over at the latest at its bound.
        Assert.True(wal.Length < SqliteGrainStorage.MaxLogBytes + (16 << 20), $"the write-ahead log grew to {wal.Length >> 20} MiB for {writes * bytesPerWrite >> 20} MiB written");

        var last = new ProbeGrainState();
        await storage.ReadStateAsync("probe", Key(39), last);
        Assert.Equal((writes - 1, Payload(writes - 1)), (last.State.Value, last.State.Writer));
        await storage.DisposeAsync();
    }

    private static GrainId Key(int i) => GrainId.Create("checkpoint", i.ToString(System.Globalization.CultureInfo.InvariantCulture));

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try { Directory.Delete(_directory, recursive: true); } catch (IOException) { }
    }
}
