namespace Scheduler.Storage.Sqlite;

using Microsoft.Data.Sqlite;
using Orleans.Runtime;
using Orleans.Serialization;
using Orleans.Storage;
using Scheduler.Storage.Sqlite.Hosting;

/// <summary>
/// Grain state in one SQLite table, with optimistic concurrency: each row carries a version (the ETag), and a write
/// whose ETag does not match the stored one fails with <see cref="InconsistentStateException"/>, as Orleans' own
/// providers do. The database runs in WAL mode, so a killed process loses no committed write.
/// </summary>
/// <remarks>
/// A clear keeps the row as a tombstone (an empty payload) with its version moved on, rather than deleting it: were the
/// row deleted, a later write would start again at version 1, and a writer still holding ETag "1" from before the clear
/// would overwrite the new record unnoticed (the ABA case, caught by the storage conformance suite).
/// </remarks>
public sealed class SqliteGrainStorage : IGrainStorage
{
    private readonly string _connectionString;
    private readonly Serializer _serializer;
    private readonly Lazy<Task> _schema;

    public SqliteGrainStorage(SqliteGrainStorageOptions options, Serializer serializer)
    {
        var errors = options.Validate();
        if (errors.Count > 0) throw new ArgumentException("invalid SQLite storage options: " + string.Join("; ", errors), nameof(options));
        var directory = Path.GetDirectoryName(Path.GetFullPath(options.DatabasePath));
        if (!string.IsNullOrEmpty(directory)) Directory.CreateDirectory(directory);
        _connectionString = new SqliteConnectionStringBuilder { DataSource = options.DatabasePath, Mode = SqliteOpenMode.ReadWriteCreate, Pooling = true }.ToString();
        _serializer = serializer;
        Synchronous = options.Synchronous;
        _schema = new Lazy<Task>(CreateSchemaAsync);
    }

    private string Synchronous { get; }

    public async Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        await using var connection = await OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT version, payload FROM grain_state WHERE state_name = $name AND grain_id = $id";
        command.Parameters.AddWithValue("$name", stateName);
        command.Parameters.AddWithValue("$id", grainId.ToString());
        await using var reader = await command.ExecuteReaderAsync();
        if (!await reader.ReadAsync())
        {
            grainState.State = Activator.CreateInstance<T>();
            grainState.ETag = null;
            grainState.RecordExists = false;
            return;
        }
        var version = reader.GetInt64(0);
        var payload = (byte[])reader.GetValue(1);
        var cleared = payload.Length == 0;
        // A tombstone reads as no record, but its version is the ETag the next write must present.
        grainState.State = cleared ? Activator.CreateInstance<T>() : _serializer.Deserialize<T>(payload);
        grainState.ETag = version.ToString(System.Globalization.CultureInfo.InvariantCulture);
        grainState.RecordExists = !cleared;
    }

    public async Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        var payload = _serializer.SerializeToArray(grainState.State);
        await using var connection = await OpenAsync();
        await using var command = connection.CreateCommand();
        command.Parameters.AddWithValue("$name", stateName);
        command.Parameters.AddWithValue("$id", grainId.ToString());
        command.Parameters.AddWithValue("$payload", payload);
        long next;
        if (grainState.ETag is null)
        {
            command.CommandText = "INSERT INTO grain_state (state_name, grain_id, version, payload) VALUES ($name, $id, 1, $payload) ON CONFLICT DO NOTHING";
            next = 1;
        }
        else
        {
            var expected = ParseETag(grainState.ETag);
            command.CommandText = "UPDATE grain_state SET version = version + 1, payload = $payload WHERE state_name = $name AND grain_id = $id AND version = $version";
            command.Parameters.AddWithValue("$version", expected);
            next = expected + 1;
        }
        if (await command.ExecuteNonQueryAsync() != 1)
            throw new InconsistentStateException($"stale write of '{stateName}' for {grainId}: stored version differs from ETag '{grainState.ETag}'", "unknown", grainState.ETag ?? "none");
        grainState.ETag = next.ToString(System.Globalization.CultureInfo.InvariantCulture);
        grainState.RecordExists = true;
    }

    public async Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        await using var connection = await OpenAsync();
        await using var command = connection.CreateCommand();
        command.Parameters.AddWithValue("$name", stateName);
        command.Parameters.AddWithValue("$id", grainId.ToString());
        string? etag = null;
        if (grainState.ETag is null)
        {
            // The holder believes there is no record: true if there is none, or only a tombstone; stale otherwise.
            command.CommandText = "SELECT count(*) FROM grain_state WHERE state_name = $name AND grain_id = $id AND length(payload) > 0";
            if (Convert.ToInt64(await command.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture) != 0)
                throw new InconsistentStateException($"stale clear of '{stateName}' for {grainId}: a record exists, the ETag is none", "unknown", "none");
        }
        else
        {
            var expected = ParseETag(grainState.ETag);
            command.CommandText = "UPDATE grain_state SET version = version + 1, payload = x'' WHERE state_name = $name AND grain_id = $id AND version = $version";
            command.Parameters.AddWithValue("$version", expected);
            if (await command.ExecuteNonQueryAsync() != 1)
                throw new InconsistentStateException($"stale clear of '{stateName}' for {grainId}: stored version differs from ETag '{grainState.ETag}'", "unknown", grainState.ETag);
            etag = (expected + 1).ToString(System.Globalization.CultureInfo.InvariantCulture);
        }
        grainState.State = Activator.CreateInstance<T>();
        grainState.ETag = etag;
        grainState.RecordExists = false;
    }

    private static long ParseETag(string etag) =>
        long.TryParse(etag, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var v)
            ? v : throw new InconsistentStateException($"malformed ETag '{etag}'", "unknown", etag);

    private async Task<SqliteConnection> OpenAsync()
    {
        await _schema.Value;
        var connection = new SqliteConnection(_connectionString);
        await connection.OpenAsync();
        await using var pragma = connection.CreateCommand();
        pragma.CommandText = $"PRAGMA synchronous = {Synchronous}; PRAGMA busy_timeout = 5000;";
        await pragma.ExecuteNonQueryAsync();
        return connection;
    }

    private async Task CreateSchemaAsync()
    {
        await using var connection = new SqliteConnection(_connectionString);
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = """
            PRAGMA journal_mode = WAL;
            CREATE TABLE IF NOT EXISTS grain_state (
                state_name TEXT NOT NULL,
                grain_id   TEXT NOT NULL,
                version    INTEGER NOT NULL,
                payload    BLOB NOT NULL,
                PRIMARY KEY (state_name, grain_id)
            ) WITHOUT ROWID;
            """;
        await command.ExecuteNonQueryAsync();
    }
}
