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

    [Fact]
    public async Task TheWriteAheadLog_StartsOver_AfterEachBurstOfWrites()
    {
        Directory.CreateDirectory(_directory);
        var database = Path.Combine(_directory, "bursts.db");
        var storage = StorageBackends.Sqlite(database);
        // 4.5 MiB a burst, 36 MiB in all: the writer asks for a checkpoint every 4 MiB, which then falls inside a burst,
        // never at its end, until the last.
        const int bursts = 8, writesPerBurst = 18, bytesPerWrite = 256 << 10;
        static string Payload(int i) => new((char)('a' + i % 26), bytesPerWrite);
        var records = Enumerable.Range(0, 8).Select(_ => new ProbeGrainState()).ToArray();
        for (var burst = 0; burst < bursts; burst++)
        {
            // Two writers at once, so that the checkpoint the burst asks for runs while its writes still come.
            var first = burst * writesPerBurst;
            await Task.WhenAll(Enumerable.Range(0, 2).Select(w => Task.Run(async () =>
            {
                for (var n = first + w; n < first + writesPerBurst; n += 2)
                {
                    records[n % 8].State = new ProbeState { Value = n, Writer = Payload(n) }; // each writer has its own four
                    await storage.WriteStateAsync("probe", Key(n % 8), records[n % 8]);
                }
            })));
            await Task.Delay(TimeSpan.FromSeconds(1)); // the pause between bursts: the checkpointer catches up
        }

        // Each burst starts the log over where the last pause left it copied: the file grows to about one burst. Had it
        // only been copied when asked, every burst would add to it until the writer held back at its bound (32 MiB).
        var wal = new FileInfo(database + "-wal");
        Assert.True(wal.Exists, "no write-ahead log: the database is not in WAL mode");
        Assert.True(wal.Length < 16 << 20, $"the write-ahead log grew to {wal.Length >> 20} MiB over bursts of {writesPerBurst * bytesPerWrite / 1048576.0:0.#} MiB");
        await storage.DisposeAsync();
    }

    private static GrainId Key(int i) => GrainId.Create("checkpoint", i.ToString(System.Globalization.CultureInfo.InvariantCulture));

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try { Directory.Delete(_directory, recursive: true); } catch (IOException) { }
    }
}
