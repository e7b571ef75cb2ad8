namespace Scheduler.Cluster.Tests.Storage;

using Microsoft.Data.Sqlite;
using Orleans.Runtime;
using Orleans.Storage;

/// <summary>A database written in the old layout (a WITHOUT ROWID table) opens in the new one with every record, version and tombstone kept.</summary>
public sealed class SqliteSchemaMigrationTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("scheduler-migrate-").FullName;

    [Fact]
    public async Task AnOldLayoutDatabase_IsMovedToTheRowidTable_KeepingEveryRecordAndVersion()
    {
        var database = Path.Combine(_directory, "old.db");
        var big = new ProbeState { Value = 7, Writer = "big", Items = Enumerable.Range(0, 5_000).ToList() }; // spills into overflow pages
        using (var old = new SqliteConnection($"Data Source={database}"))
        {
            old.Open();
            using var create = old.CreateCommand();
            create.CommandText = """
                PRAGMA journal_mode = WAL;
                CREATE TABLE grain_state (
                    state_name TEXT NOT NULL, grain_id TEXT NOT NULL, version INTEGER NOT NULL, payload BLOB NOT NULL,
                    PRIMARY KEY (state_name, grain_id)
                ) WITHOUT ROWID;
                """;
            create.ExecuteNonQuery();
            Insert(old, Key("a"), 3, StorageBackends.Serializer.SerializeToArray(new ProbeState { Value = 1, Writer = "a" }));
            Insert(old, Key("big"), 12, StorageBackends.Serializer.SerializeToArray(big));
            Insert(old, Key("cleared"), 5, []); // a tombstone
        }
        SqliteConnection.ClearAllPools();

        for (var open = 0; open < 2; open++) // the second open finds the new layout and changes nothing
        {
            await using var storage = StorageBackends.Sqlite(database);
            var a = await ReadAsync(storage, "a");
            Assert.True(a.RecordExists);
            Assert.Equal((1, "a", open == 0 ? "3" : "4"), (a.State.Value, a.State.Writer, a.ETag));
            var read = await ReadAsync(storage, "big");
            Assert.Equal(big.Items, read.State.Items);
            Assert.Equal("12", read.ETag);
            var cleared = await ReadAsync(storage, "cleared");
            Assert.False(cleared.RecordExists);
            Assert.Equal("5", cleared.ETag);

            // Optimistic concurrency still holds on migrated rows: a stale ETag fails, the current one writes.
            var stale = new ProbeGrainState { ETag = "1" };
            await Assert.ThrowsAsync<InconsistentStateException>(() => storage.WriteStateAsync("probe", Key("a"), stale));
            if (open == 0) await storage.WriteStateAsync("probe", Key("a"), a);
        }

        SqliteConnection.ClearAllPools();
        using var check = new SqliteConnection($"Data Source={database}");
        check.Open();
        using var schema = check.CreateCommand();
        schema.CommandText = "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'grain_state'";
        Assert.DoesNotContain("WITHOUT ROWID", (string)schema.ExecuteScalar()!, StringComparison.OrdinalIgnoreCase);
        schema.CommandText = "SELECT count(*) FROM sqlite_master WHERE type = 'table'";
        Assert.Equal(1L, (long)schema.ExecuteScalar()!);
    }

    private static GrainId Key(string id) => GrainId.Create("migrate", id);

    private static void Insert(SqliteConnection connection, GrainId key, long version, byte[] payload)
    {
        using var insert = connection.CreateCommand();
        insert.CommandText = "INSERT INTO grain_state VALUES ('probe', $id, $version, $payload)";
        insert.Parameters.AddWithValue("$id", key.ToString());
        insert.Parameters.AddWithValue("$version", version);
        insert.Parameters.AddWithValue("$payload", payload);
        insert.ExecuteNonQuery();
    }

    private static async Task<ProbeGrainState> ReadAsync(IGrainStorage storage, string id)
    {
        var state = new ProbeGrainState();
        await storage.ReadStateAsync("probe", Key(id), state);
        return state;
    }

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        try { Directory.Delete(_directory, recursive: true); } catch (IOException) { }
    }
}
