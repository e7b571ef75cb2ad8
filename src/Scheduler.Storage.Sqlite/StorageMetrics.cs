namespace Scheduler.Storage.Sqlite;

using System.Diagnostics.Metrics;

/// <summary>
/// The storage's instruments, on the meter <see cref="SqliteGrainStorage.MeterName"/>: how the one writer batches and
/// how long its batches take, how long writes wait for it, and the write-ahead log's size and checkpoints. These are
/// what the decision latency's tail was traced to (docs/performance.md); names and units are in docs/operations.md.
/// </summary>
internal sealed class StorageMetrics : IDisposable
{
    private const string CheckpointBy = "scheduler.storage.checkpoint.by";
    private readonly Meter _meter;
    private readonly bool _ownsMeter;
    private readonly Histogram<int> _batchWrites;
    private readonly Histogram<double> _batchDuration;
    private readonly Histogram<double> _queueWait;
    private readonly Counter<long> _bytes;
    private readonly Counter<long> _checkpoints;
    private readonly Counter<long> _holdBacks;

    /// <param name="meters">The host's meter factory; without one (a storage built by hand) the storage owns its meter.</param>
    /// <param name="logBytes">The write-ahead log's size at the last checkpoint, in bytes.</param>
    public StorageMetrics(IMeterFactory? meters, Func<long> logBytes)
    {
        _ownsMeter = meters is null;
        _meter = meters?.Create(SqliteGrainStorage.MeterName) ?? new Meter(SqliteGrainStorage.MeterName);
        _batchWrites = _meter.CreateHistogram("scheduler.storage.batch.writes", "{write}", "Writes (and clears) committed in one transaction by the storage's one writer",
            advice: new InstrumentAdvice<int> { HistogramBucketBoundaries = [1, 2, 5, 10, 25, 50, 100, 250, 512] });
        _batchDuration = _meter.CreateHistogram("scheduler.storage.batch.duration", "ms", "Real time the writer took for one batch: its statements and its commit",
            advice: WriterTimeBuckets);
        _queueWait = _meter.CreateHistogram("scheduler.storage.queue_wait", "ms", "Real time the oldest write of each batch waited for the writer: the batches ahead of it and the writer's wake-up",
            advice: WriterTimeBuckets);
        _bytes = _meter.CreateCounter<long>("scheduler.storage.written", "By", "Serialized state committed");
        _checkpoints = _meter.CreateCounter<long>("scheduler.storage.checkpoints", "{checkpoint}", "Checkpoints of the write-ahead log, by who ran them: the checkpointer, or the writer holding back");
        _holdBacks = _meter.CreateCounter<long>("scheduler.storage.hold_backs", "{batch}", "Batches after which the writer held back to copy the write-ahead log itself (it had reached its bound)");
        _meter.CreateObservableGauge("scheduler.storage.log.size", logBytes, "By", "Size of the write-ahead log at the last checkpoint");
    }

    /// <summary>
    /// Buckets for the writer's times: most batches take a tenth of a millisecond, so the exporters' default buckets
    /// (0, 5, 10, 25 … ms) would put nearly all of them in the first.
    /// </summary>
    private static readonly InstrumentAdvice<double> WriterTimeBuckets = new() { HistogramBucketBoundaries = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 25, 50, 100, 250] };

    public void BatchCommitted(int writes, long bytes, TimeSpan queued, TimeSpan duration)
    {
        _batchWrites.Record(writes);
        _batchDuration.Record(duration.TotalMilliseconds);
        _queueWait.Record(queued.TotalMilliseconds);
        _bytes.Add(bytes);
    }

    public void Checkpointed(bool byWriter) =>
        _checkpoints.Add(1, new KeyValuePair<string, object?>(CheckpointBy, byWriter ? "writer" : "checkpointer"));

    public void HeldBack() => _holdBacks.Add(1);

    public void Dispose()
    {
        if (_ownsMeter) _meter.Dispose();
    }
}
