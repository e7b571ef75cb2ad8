namespace Scheduler.Storage.Sqlite;

using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Threading.Channels;
using CommunityToolkit.HighPerformance.Buffers;
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
    /// <summary>The meter of the storage's instruments (<see cref="StorageMetrics"/>).</summary>
    public const string MeterName = "Scheduler.Storage";

    /// <summary>Writes committed in one transaction at most; more wait for the next.</summary>
    private const int MaxBatch = 512;

    /// <summary>A payload buffer's first size: most states (a job's record, a plant's) fit; a site's snapshot grows it.</summary>
    private const int InitialPayloadBytes = 4096;

    /// <summary>Open reader connections kept for reuse; more than this many concurrent reads open more, then close them.</summary>
    private const int MaxIdleReaders = 4;

    /// <summary>
    /// Bytes committed after which the checkpointer copies the write-ahead log into the database: about SQLite's own
    /// automatic threshold (1,000 pages of 4 KiB).
    /// </summary>
    internal const long CheckpointAfterBytes = 4 << 20;

    /// <summary>
    /// Size of the write-ahead log at which the writer holds back and checkpoints it itself, as SQLite would: only when
    /// writes come faster than the checkpointer copies them, so that the log stays bounded.
    /// </summary>
    internal const long MaxLogBytes = 32 << 20;

    /// <summary>Pages in the write-ahead log at the last checkpoint (SQLite starts the log over once one copied it all).</summary>
    private long _logPages;

    private readonly string _connectionString;
    private readonly Serializer _serializer;
    private readonly Lazy<Task> _schema;
    private readonly Channel<PendingWrite> _writes = Channel.CreateUnbounded<PendingWrite>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Task _writer;
    /// <summary>Asks the checkpointer for a checkpoint; one pending request is enough.</summary>
    private readonly Channel<bool> _checkpoints = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite, SingleReader = true });
    private readonly Task _checkpointer;
    private readonly System.Collections.Concurrent.ConcurrentBag<Reader> _readers = [];
    private readonly StorageMetrics _metrics;
    private volatile bool _disposed;

    /// <param name="meters">The host's meter factory, for the storage's instruments; null: a meter of its own.</param>
    public SqliteGrainStorage(SqliteGrainStorageOptions options, Serializer serializer, IMeterFactory? meters = null)
    {
        var errors = options.Validate();
        if (errors.Count > 0) throw new ArgumentException("invalid SQLite storage options: " + string.Join("; ", errors), nameof(options));
        var directory = Path.GetDirectoryName(Path.GetFullPath(options.DatabasePath));
        if (!string.IsNullOrEmpty(directory)) Directory.CreateDirectory(directory);
        _connectionString = new SqliteConnectionStringBuilder { DataSource = options.DatabasePath, Mode = SqliteOpenMode.ReadWriteCreate, Pooling = true }.ToString();
        _serializer = serializer;
        Synchronous = options.Synchronous;
        _metrics = new StorageMetrics(meters, () => Interlocked.Read(ref _logPages) * PageBytes);
        _schema = new Lazy<Task>(CreateSchemaAsync);
        _writer = Task.Run(WriteLoopAsync);
        _checkpointer = Task.Run(CheckpointLoopAsync);
    }

    private string Synchronous { get; }

    public async Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        await _schema.Value;
        // Microsoft.Data.Sqlite runs every call synchronously, so nothing is gained by its async methods; a reader
        // from the pool (open, pragmas set, statement prepared) saves the open, the pragmas and the parse per read.
        var reader = _readers.TryTake(out var pooled) ? pooled : new Reader(Open());
        bool found;
        long version;
        byte[] payload;
        try
        {
            found = reader.Read(stateName, grainId.ToString(), out version, out payload);
        }
        catch
        {
            // A reader that failed is not trusted again.
            reader.Dispose();
            throw;
        }
        ReturnReader(reader);
        if (!found)
        {
            grainState.State = Activator.CreateInstance<T>();
            grainState.ETag = null;
            grainState.RecordExists = false;
            return;
        }
        var cleared = payload.Length == 0;
        // A tombstone reads as no record, but its version is the ETag the next write must present.
        grainState.State = cleared ? Activator.CreateInstance<T>() : _serializer.Deserialize<T>(payload);
        grainState.ETag = version.ToString(System.Globalization.CultureInfo.InvariantCulture);
        grainState.RecordExists = !cleared;
    }

    private void ReturnReader(Reader reader)
    {
        // Keep at most MaxIdleReaders open; a storage being disposed keeps none.
        if (_disposed || _readers.Count >= MaxIdleReaders)
        {
            reader.Dispose();
            return;
        }
        _readers.Add(reader);
        // Disposed meanwhile: the disposal may already have emptied the pool.
        if (_disposed)
            while (_readers.TryTake(out var left)) left.Dispose();
    }

    public async Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        // Serialized here, on the caller's turn: the state may change once the caller's turn moves on. Into a pooled
        // buffer, which the writer returns once the write is done: a fresh array per write was 14 % of the bytes job
        // creation allocated, and a site's snapshot (100 KB at 100 jobs) went to the large object heap, whose
        // budget then set off a full background collection every few seconds.
        var payload = new ArrayPoolBufferWriter<byte>(InitialPayloadBytes);
        var expected = grainState.ETag is null ? (long?)null : ParseETag(grainState.ETag);
        try
        {
            _serializer.Serialize(grainState.State, payload);
        }
        catch
        {
            payload.Dispose();
            throw;
        }
        var outcome = await EnqueueAsync(new PendingWrite(stateName, grainId.ToString(), payload, expected, Clear: false));
        if (outcome is not { } next)
            throw new InconsistentStateException($"stale write of '{stateName}' for {grainId}: stored version differs from ETag '{grainState.ETag}'", "unknown", grainState.ETag ?? "none");
        grainState.ETag = next.ToString(System.Globalization.CultureInfo.InvariantCulture);
        grainState.RecordExists = true;
    }

    public async Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        var expected = grainState.ETag is null ? (long?)null : ParseETag(grainState.ETag);
        var outcome = await EnqueueAsync(new PendingWrite(stateName, grainId.ToString(), null, expected, Clear: true));
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
        if (!_writes.Writer.TryWrite(write))
        {
            write.Payload?.Dispose();
            throw new ObjectDisposedException(nameof(SqliteGrainStorage));
        }
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
        // One connection for the writer's life (opened on the first write): no open and pragmas per batch. Its
        // statements are prepared once and reused: parsing them again for every write showed in the profile.
        SqliteConnection? connection = null;
        Statements? statements = null;
        var sinceRequest = 0L;
        try
        {
            while (await _writes.Reader.WaitToReadAsync().ConfigureAwait(false))
            {
                await WriteBatchAsync();
            }
        }
        finally
        {
            statements?.Dispose();
            connection?.Dispose();
        }

        async Task WriteBatchAsync()
        {
            while (batch.Count < MaxBatch && _writes.Reader.TryRead(out var write)) batch.Add(write);
            var results = new long?[batch.Count];
            var started = Stopwatch.GetTimestamp();
            var bytes = 0L;
            try
            {
                await _schema.Value.ConfigureAwait(false);
                connection ??= Open();
                statements ??= new Statements(connection);
                using var transaction = connection.BeginTransaction();
                statements.Enlist(transaction);
                for (var i = 0; i < batch.Count; i++)
                {
                    results[i] = statements.Execute(batch[i]);
                    bytes += batch[i].Payload?.WrittenCount ?? 0;
                }
                transaction.Commit();
            }
            catch (Exception ex)
            {
                // Nothing of this batch is known to be stored: every write in it fails, and the next batch starts
                // on a fresh connection.
                foreach (var write in batch)
                {
                    write.Payload?.Dispose();
                    write.Done.TrySetException(ex);
                }
                batch.Clear();
                statements?.Dispose();
                statements = null;
                connection?.Dispose();
                connection = null;
                return;
            }
            // Measured before the writes complete: whoever awaits one then sees its batch counted.
            _metrics.BatchCommitted(batch.Count, bytes, Stopwatch.GetElapsedTime(batch[0].Queued, started), Stopwatch.GetElapsedTime(started));
            for (var i = 0; i < batch.Count; i++)
            {
                batch[i].Payload?.Dispose();
                batch[i].Done.TrySetResult(results[i]);
            }
            batch.Clear();
            sinceRequest += bytes;
            if (sinceRequest >= CheckpointAfterBytes && _checkpoints.Writer.TryWrite(true)) sinceRequest = 0;
            // Writes coming faster than the checkpointer copies them: the writer holds back and copies the log itself
            // (SQLite's own behaviour, at a higher mark), for a while at most, as a reader may hold an old snapshot.
            if (Interlocked.Read(ref _logPages) * PageBytes >= MaxLogBytes) _metrics.HeldBack();
            for (var attempt = 0; attempt < 1000 && Interlocked.Read(ref _logPages) * PageBytes >= MaxLogBytes; attempt++)
            {
                try { if (Checkpoint(connection!, byWriter: true) is { } c && c.Copied >= c.Log) break; }
                catch (SqliteException) { break; } // the writes are committed; the next batch tries again
                await Task.Delay(1).ConfigureAwait(false);
            }
        }
    }

    /// <summary>
    /// Copies the write-ahead log into the database off the writer's path. SQLite's automatic checkpoint runs inside
    /// the commit that crosses its threshold: that commit, and every write queued behind it, waited tens of
    /// milliseconds for the copy and its sync (the spikes of decision latency in docs/performance.md). The writer's
    /// connection has it off; this loop checkpoints on its own connection, which SQLite runs alongside the writer.
    /// </summary>
    /// <remarks>
    /// SQLite starts the log over from its beginning only when a write begins after a checkpoint copied all of it. A
    /// checkpoint asked for in a burst of writes copies what was there when it began, and the burst adds more. So after
    /// a request the loop tries again every <see cref="CatchUpPause"/> (or at once when asked again) until a checkpoint
    /// finds the log copied and no larger than the last one that copied it all: nothing was written since, and the next
    /// write starts the log over. Checkpointing only when asked, the log grew through every burst until the writer held
    /// back at <see cref="MaxLogBytes"/> and copied it itself, which stalled every write behind it, by up to 39 ms in
    /// the bench (adr/0004). Under writes that never pause, the writer still holds back there (a test holds it there).
    /// </remarks>
    private async Task CheckpointLoopAsync()
    {
        SqliteConnection? connection = null;
        var retries = 0; // tries left, without a new request, to copy the whole log
        long? settled = null; // pages in the log when a checkpoint last copied it all
        try
        {
            while (true)
            {
                if (retries == 0)
                {
                    if (!await _checkpoints.Reader.WaitToReadAsync().ConfigureAwait(false)) break;
                }
                else
                {
                    using var pause = new CancellationTokenSource(CatchUpPause);
                    try
                    {
                        if (!await _checkpoints.Reader.WaitToReadAsync(pause.Token).ConfigureAwait(false)) break;
                    }
                    catch (OperationCanceledException) { }
                    retries--;
                }
                if (_checkpoints.Reader.TryRead(out _)) retries = CatchUpAttempts;
                try
                {
                    await _schema.Value.ConfigureAwait(false);
                    connection ??= Open();
                    if (Checkpoint(connection, byWriter: false) is { } c && c.Copied >= c.Log)
                    {
                        // The whole log copied, and nothing written since it last was: the next write starts it over.
                        if (settled == c.Log) retries = 0;
                        settled = c.Log;
                    }
                    else settled = null;
                }
                catch (SqliteException)
                {
                    // The log only grows until the next request succeeds; the writes themselves are committed.
                    connection?.Dispose();
                    connection = null;
                    retries = 0;
                }
            }
        }
        finally
        {
            connection?.Dispose();
        }
    }

    /// <summary>How long the checkpointer waits, after a checkpoint that left part of the log, before it tries again.</summary>
    private static readonly TimeSpan CatchUpPause = TimeSpan.FromMilliseconds(200);

    /// <summary>Tries after a request (5 s in all): writes that never pause leave the log to the writer's hold-back.</summary>
    private const int CatchUpAttempts = 25;

    /// <summary>SQLite's default page size, which this storage keeps.</summary>
    private const long PageBytes = 4096;

    /// <summary>
    /// One PASSIVE checkpoint (it waits for neither readers nor the writer): the pages in the log and how many of them
    /// the database now has; null if another checkpoint was running.
    /// </summary>
    private (long Log, long Copied)? Checkpoint(SqliteConnection connection, bool byWriter)
    {
        using var checkpoint = connection.CreateCommand();
        checkpoint.CommandText = "PRAGMA wal_checkpoint(PASSIVE)";
        using var result = checkpoint.ExecuteReader();
        // One row: busy (another checkpoint runs: -1 pages), pages in the log, pages copied.
        if (!result.Read() || result.GetInt64(0) != 0) return null;
        Interlocked.Exchange(ref _logPages, result.GetInt64(1));
        _metrics.Checkpointed(byWriter);
        return (result.GetInt64(1), result.GetInt64(2));
    }

    /// <summary>The writer's statements, prepared once on its connection.</summary>
    private sealed class Statements : IDisposable
    {
        private readonly SqliteCommand _countLive, _clear, _insert, _update;

        public Statements(SqliteConnection connection)
        {
            _countLive = Command(connection, "SELECT count(*) FROM grain_state WHERE state_name = $name AND grain_id = $id AND length(payload) > 0");
            _clear = Command(connection, "UPDATE grain_state SET version = version + 1, payload = x'' WHERE state_name = $name AND grain_id = $id AND version = $version", "$version");
            // The payload is bound as its whole pooled array; substr keeps the bytes written (of a blob, it counts bytes).
            _insert = Command(connection, "INSERT INTO grain_state (state_name, grain_id, version, payload) VALUES ($name, $id, 1, substr($payload, 1, $length)) ON CONFLICT DO NOTHING", "$payload", "$length");
            _update = Command(connection, "UPDATE grain_state SET version = version + 1, payload = substr($payload, 1, $length) WHERE state_name = $name AND grain_id = $id AND version = $version", "$payload", "$length", "$version");
        }

        public void Enlist(SqliteTransaction transaction)
        {
            _countLive.Transaction = _clear.Transaction = _insert.Transaction = _update.Transaction = transaction;
        }

        /// <summary>One write or clear inside the batch's transaction; the new version, or null if the ETag was stale.</summary>
        public long? Execute(PendingWrite write)
        {
            if (write.Clear)
            {
                if (write.Expected is null)
                {
                    // The holder believes there is no record: true if there is none, or only a tombstone; stale otherwise.
                    Bind(_countLive, write);
                    return Convert.ToInt64(_countLive.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture) == 0 ? 0 : null;
                }
                Bind(_clear, write);
                _clear.Parameters["$version"].Value = write.Expected.Value;
                return _clear.ExecuteNonQuery() == 1 ? write.Expected.Value + 1 : null;
            }
            if (write.Expected is null)
            {
                Bind(_insert, write);
                return _insert.ExecuteNonQuery() == 1 ? 1 : null;
            }
            Bind(_update, write);
            _update.Parameters["$version"].Value = write.Expected.Value;
            return _update.ExecuteNonQuery() == 1 ? write.Expected.Value + 1 : null;
        }

        public void Dispose()
        {
            _countLive.Dispose();
            _clear.Dispose();
            _insert.Dispose();
            _update.Dispose();
        }

        private static void Bind(SqliteCommand command, PendingWrite write)
        {
            command.Parameters["$name"].Value = write.StateName;
            command.Parameters["$id"].Value = write.GrainId;
            if (write.Payload is not { } payload) return;
            command.Parameters["$payload"].Value = payload.DangerousGetArray().Array;
            command.Parameters["$length"].Value = payload.WrittenCount;
        }
    }

    private static SqliteCommand Command(SqliteConnection connection, string sql, params string[] extra)
    {
        var command = connection.CreateCommand();
        command.CommandText = sql;
        foreach (var name in (string[])["$name", "$id", .. extra]) command.Parameters.Add(new SqliteParameter { ParameterName = name });
        return command;
    }

    /// <summary>A reader connection with its statement prepared; used by one read at a time.</summary>
    private sealed class Reader(SqliteConnection connection) : IDisposable
    {
        private readonly SqliteCommand _select = Command(connection, "SELECT version, payload FROM grain_state WHERE state_name = $name AND grain_id = $id");

        public bool Read(string stateName, string grainId, out long version, out byte[] payload)
        {
            _select.Parameters["$name"].Value = stateName;
            _select.Parameters["$id"].Value = grainId;
            using var reader = _select.ExecuteReader();
            if (!reader.Read())
            {
                version = 0;
                payload = [];
                return false;
            }
            version = reader.GetInt64(0);
            payload = (byte[])reader.GetValue(1);
            return true;
        }

        public void Dispose()
        {
            _select.Dispose();
            connection.Dispose();
        }
    }

    public async ValueTask DisposeAsync()
    {
        _disposed = true;
        _writes.Writer.TryComplete();
        await _writer.ConfigureAwait(false);
        _checkpoints.Writer.TryComplete();
        await _checkpointer.ConfigureAwait(false);
        while (_readers.TryTake(out var reader)) reader.Dispose();
        _metrics.Dispose();
    }

    /// <summary>A write (or clear) waiting for the writer; <see cref="Expected"/> is the version its ETag names, if any.</summary>
    /// <param name="Payload">The serialized state, in a pooled buffer the writer disposes when the write is done; null for a clear.</param>
    private sealed record PendingWrite(string StateName, string GrainId, ArrayPoolBufferWriter<byte>? Payload, long? Expected, bool Clear)
    {
        public TaskCompletionSource<long?> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        /// <summary>When the write was handed to the writer (a <see cref="Stopwatch"/> timestamp).</summary>
        public long Queued { get; } = Stopwatch.GetTimestamp();
    }

    private static long ParseETag(string etag) =>
        long.TryParse(etag, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var v)
            ? v : throw new InconsistentStateException($"malformed ETag '{etag}'", "unknown", etag);

    private SqliteConnection Open()
    {
        var connection = new SqliteConnection(_connectionString);
        connection.Open();
        using var pragma = connection.CreateCommand();
        // No automatic checkpoint on any connection: the checkpointer runs them (CheckpointLoopAsync).
        pragma.CommandText = $"PRAGMA synchronous = {Synchronous}; PRAGMA busy_timeout = 5000; PRAGMA wal_autocheckpoint = 0;";
        pragma.ExecuteNonQuery();
        return connection;
    }

    /// <summary>
    /// The table is an ordinary (rowid) table with its key in a separate index. It was a WITHOUT ROWID table, whose
    /// b-tree holds whole rows as keys: a row longer than about 1 KB (a job record, a catalogue page, a site's state)
    /// spills into overflow pages, and SQLite reads a spilled key whole to compare it while seeking. Every lookup and
    /// every write read the rows it passed by: about 36 file reads per job created. Now a seek compares only the
    /// small index keys. A database in the old layout is copied to the new one in one transaction on first open.
    /// </summary>
    private async Task CreateSchemaAsync()
    {
        await using var connection = new SqliteConnection(_connectionString);
        await connection.OpenAsync();
        await using (var wal = connection.CreateCommand())
        {
            wal.CommandText = "PRAGMA journal_mode = WAL; PRAGMA busy_timeout = 5000;";
            await wal.ExecuteNonQueryAsync();
        }
        // IMMEDIATE: another process opening the same file waits, then finds the work done.
        await using var transaction = (SqliteTransaction)await connection.BeginTransactionAsync(System.Data.IsolationLevel.Serializable);
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'grain_state'";
        var existing = await command.ExecuteScalarAsync() as string;
        if (existing is not null && !existing.Contains("WITHOUT ROWID", StringComparison.OrdinalIgnoreCase))
        {
            await transaction.CommitAsync();
            return;
        }
        command.CommandText = $"""
            CREATE TABLE grain_state_rowid (
                state_name TEXT NOT NULL,
                grain_id   TEXT NOT NULL,
                version    INTEGER NOT NULL,
                payload    BLOB NOT NULL,
                PRIMARY KEY (state_name, grain_id)
            );
            {(existing is null ? "" : """
                INSERT INTO grain_state_rowid (state_name, grain_id, version, payload) SELECT state_name, grain_id, version, payload FROM grain_state;
                DROP TABLE grain_state;
                """)}
            ALTER TABLE grain_state_rowid RENAME TO grain_state;
            """;
        await command.ExecuteNonQueryAsync();
        await transaction.CommitAsync();
    }
}
