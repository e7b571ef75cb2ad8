namespace Scheduler.Storage.Sqlite;

using System.Threading.Channels;
using Microsoft.Data.Sqlite;
using Orleans.Runtime;
using Orleans.Serialization;
using Orleans.Storage;
using Scheduler.Storage.Sqlite.Hosting;

/// <summary>
/// Grain state in one SQLite table, with optimistic concurrency: each row carries a version (the ETag), and a write
/// whose ETag does not match the stored one fails with <see cref="InconsistentStateException"/>, as Orleans' own
/// providers do. The database runs in WAL mode, so a killed process loses no committed write. Writes go through one
/// writer that commits whatever is queued in one transaction (see <see cref="WriteLoopAsync"/>); a write is
/// acknowledged only after its transaction commits.
/// </summary>
/// <remarks>
/// A clear keeps the row as a tombstone (an empty payload) with its version moved on, rather than deleting it: were the
/// row deleted, a later write would start again at version 1, and a writer still holding ETag "1" from before the clear
/// would overwrite the new record unnoticed (the ABA case, caught by the storage conformance suite).
/// </remarks>
public sealed class SqliteGrainStorage : IGrainStorage, IAsyncDisposable
{
    /// <summary>Writes committed in one transaction at most; more wait for the next.</summary>
    private const int MaxBatch = 512;

    private readonly string _connectionString;
    private readonly Serializer _serializer;
    private readonly Lazy<Task> _schema;
    private readonly Channel<PendingWrite> _writes = Channel.CreateUnbounded<PendingWrite>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Task _writer;

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
        _writer = Task.Run(WriteLoopAsync);
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
        // Serialized here, on the caller's turn: the state may change once the caller's turn moves on.
        var payload = _serializer.SerializeToArray(grainState.State);
        var expected = grainState.ETag is null ? (long?)null : ParseETag(grainState.ETag);
        var outcome = await EnqueueAsync(new PendingWrite(stateName, grainId.ToString(), payload, expected, Clear: false));
        if (outcome is not { } next)
            throw new InconsistentStateException($"stale write of '{stateName}' for {grainId}: stored version differs from ETag '{grainState.ETag}'", "unknown", grainState.ETag ?? "none");
        grainState.ETag = next.ToString(System.Globalization.CultureInfo.InvariantCulture);
        grainState.RecordExists = true;
    }

    public async Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        var expected = grainState.ETag is null ? (long?)null : ParseETag(grainState.ETag);
        var outcome = await EnqueueAsync(new PendingWrite(stateName, grainId.ToString(), [], expected, Clear: true));
        if (outcome is null)
        {
            throw expected is null
                ? new InconsistentStateException($"stale clear of '{stateName}' for {grainId}: a record exists, the ETag is none", "unknown", "none")
                : new InconsistentStateException($"stale clear of '{stateName}' for {grainId}: stored version differs from ETag '{grainState.ETag}'", "unknown", grainState.ETag!);
        }
        grainState.State = Activator.CreateInstance<T>();
        grainState.ETag = expected is null ? null : outcome.Value.ToString(System.Globalization.CultureInfo.InvariantCulture);
        grainState.RecordExists = false;
    }

    /// <summary>
    /// Hands a write to the single writer and waits for its commit. The result is the new version, or null when the
    /// stored version did not match (a stale ETag).
    /// </summary>
    private Task<long?> EnqueueAsync(PendingWrite write)
    {
        if (!_writes.Writer.TryWrite(write)) throw new ObjectDisposedException(nameof(SqliteGrainStorage));
        return write.Done.Task;
    }

    /// <summary>
    /// The one writer: waits for a write, takes every write queued meanwhile (up to <see cref="MaxBatch"/>), and
    /// commits them in one transaction. SQLite admits one writer at a time, and Microsoft.Data.Sqlite runs every call
    /// synchronously: grains writing on their own turns held their activation and a scheduler thread for the whole
    /// write, sleeping in SQLite's busy handler whenever another grain held the lock. One writer never meets the lock,
    /// and one commit per batch makes N concurrent writes cost about one (group commit). Each write keeps its own
    /// ETag check: a stale one fails alone, the others in its batch commit.
    /// </summary>
    private async Task WriteLoopAsync()
    {
        var batch = new List<PendingWrite>(MaxBatch);
        // One connection for the writer's life (opened on the first write): no open and pragmas per batch.
        SqliteConnection? connection = null;
        try
        {
            while (await _writes.Reader.WaitToReadAsync().ConfigureAwait(false))
            {
                await WriteBatchAsync();
            }
        }
        finally
        {
            connection?.Dispose();
        }

        async Task WriteBatchAsync()
        {
            while (batch.Count < MaxBatch && _writes.Reader.TryRead(out var write)) batch.Add(write);
            var results = new long?[batch.Count];
            try
            {
                await _schema.Value.ConfigureAwait(false);
                connection ??= Open();
                using var transaction = connection.BeginTransaction();
                for (var i = 0; i < batch.Count; i++) results[i] = Execute(connection, transaction, batch[i]);
                transaction.Commit();
            }
            catch (Exception ex)
            {
                // Nothing of this batch is known to be stored: every write in it fails, and the next batch starts
                // on a fresh connection.
                foreach (var write in batch) write.Done.TrySetException(ex);
                batch.Clear();
                connection?.Dispose();
                connection = null;
                return;
            }
            for (var i = 0; i < batch.Count; i++) batch[i].Done.TrySetResult(results[i]);
            batch.Clear();
        }
    }

    /// <summary>One write or clear inside the batch's transaction; the new version, or null if the ETag was stale.</summary>
    private static long? Execute(SqliteConnection connection, SqliteTransaction transaction, PendingWrite write)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.Parameters.AddWithValue("$name", write.StateName);
        command.Parameters.AddWithValue("$id", write.GrainId);
        if (write.Clear)
        {
            if (write.Expected is null)
            {
                // The holder believes there is no record: true if there is none, or only a tombstone; stale otherwise.
                command.CommandText = "SELECT count(*) FROM grain_state WHERE state_name = $name AND grain_id = $id AND length(payload) > 0";
                return Convert.ToInt64(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture) == 0 ? 0 : null;
            }
            command.CommandText = "UPDATE grain_state SET version = version + 1, payload = x'' WHERE state_name = $name AND grain_id = $id AND version = $version";
            command.Parameters.AddWithValue("$version", write.Expected.Value);
            return command.ExecuteNonQuery() == 1 ? write.Expected.Value + 1 : null;
        }
        command.Parameters.AddWithValue("$payload", write.Payload);
        if (write.Expected is null)
        {
            command.CommandText = "INSERT INTO grain_state (state_name, grain_id, version, payload) VALUES ($name, $id, 1, $payload) ON CONFLICT DO NOTHING";
            return command.ExecuteNonQuery() == 1 ? 1 : null;
        }
        command.CommandText = "UPDATE grain_state SET version = version + 1, payload = $payload WHERE state_name = $name AND grain_id = $id AND version = $version";
        command.Parameters.AddWithValue("$version", write.Expected.Value);
        return command.ExecuteNonQuery() == 1 ? write.Expected.Value + 1 : null;
    }

    public async ValueTask DisposeAsync()
    {
        _writes.Writer.TryComplete();
        await _writer.ConfigureAwait(false);
    }

    /// <summary>A write (or clear) waiting for the writer; <see cref="Expected"/> is the version its ETag names, if any.</summary>
    private sealed record PendingWrite(string StateName, string GrainId, byte[] Payload, long? Expected, bool Clear)
    {
        public TaskCompletionSource<long?> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    private static long ParseETag(string etag) =>
        long.TryParse(etag, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var v)
            ? v : throw new InconsistentStateException($"malformed ETag '{etag}'", "unknown", etag);

    private SqliteConnection Open()
    {
        var connection = new SqliteConnection(_connectionString);
        connection.Open();
        using var pragma = connection.CreateCommand();
        pragma.CommandText = $"PRAGMA synchronous = {Synchronous}; PRAGMA busy_timeout = 5000;";
        pragma.ExecuteNonQuery();
        return connection;
    }

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
