namespace Scheduler.Cluster.Tests.Storage;

using Microsoft.Data.Sqlite;
using Orleans.Runtime;

/// <summary>
/// The SQLite storage serializes a state into a pooled buffer, larger than the state and possibly holding an earlier
/// state's bytes, and stores only what was written: each record holds exactly Orleans' serialized bytes, as it did when
/// every write had an array of its own (so records stored before read as before, and the other way round).
/// </summary>
public sealed class SqlitePayloadTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "scheduler-payload-" + Guid.NewGuid().ToString("N")[..8]);

    [Fact]
    public async Task EachRecord_HoldsExactlyTheSerializedState_WhateverBufferItWasWrittenFrom()
    {
        Directory.CreateDirectory(_directory);
        var database = Path.Combine(_directory, "payload.db");
        var storage = StorageBackends.Sqlite(database);
        // Large then small, twice, into the same records: around the first buffer's size, and a large object's.
        int[] sizes = [200_000, 10, 4_000, 5_000, 90_000, 3, 4_090, 1];
        var states = sizes.Select((n, i) => new ProbeState { Value = i, Writer = new string((char)('a' + i), n), Items = [.. Enumerable.Range(0, i)] }).ToArray();
        for (var i = 0; i < states.Length; i++)
        {
            var record = new ProbeGrainState();
            await storage.ReadStateAsync("probe", Key(i % 3), record);
            record.State = states[i];
            await storage.WriteStateAsync("probe", Key(i % 3), record);

            var stored = ReadPayload(database, Key(i % 3));
            Assert.Equal(StorageBackends.Serializer.SerializeToArray(states[i]), stored);
        }

        for (var k = 0; k < 3; k++)
        {
            var read = new ProbeGrainState();
            await storage.ReadStateAsync("probe", Key(k), read);
            var expected = states[Enumerable.Range(0, states.Length).Last(i => i % 3 == k)];
            Assert.Equal((expected.Value, expected.Writer), (read.State.Value, read.State.Writer));
            Assert.Equal(expected.Items, read.State.Items);
        }
        await storage.DisposeAsync();
    }

    private static byte[] ReadPayload(string database, GrainId id)
    {
        using var connection = new SqliteConnection($"Data Source={database};Mode=ReadOnly;Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT payload FROM grain_state WHERE state_name = 'probe' AND grain_id = $id";
        command.Parameters.AddWithValue("$id", id.ToString());
        return (byte[])command.ExecuteScalar()!;
    }

    private static GrainId Key(int i) => GrainId.Create("payload", i.ToString(System.Globalization.CultureInfo.InvariantCulture));

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        try { Directory.Delete(_directory, recursive: true); } catch (IOException) { }
    }
}
