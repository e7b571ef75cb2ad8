namespace Scheduler.Cluster.Tests.Storage;

using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Runtime;
using Scheduler.Storage.Sqlite;
using Scheduler.Storage.Sqlite.Hosting;

/// <summary>
/// The storage measures its one writer (batches, their duration, the wait for the writer, bytes) and its write-ahead
/// log (size, checkpoints): what operators look at when decisions wait for their records.
/// </summary>
public sealed class SqliteStorageMetricsTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "scheduler-storage-metrics-" + Guid.NewGuid().ToString("N")[..8]);
    private readonly ServiceProvider _services = new ServiceCollection().AddMetrics().BuildServiceProvider();
    private readonly MeterListener _listener = new();
    private readonly ConcurrentQueue<(string Instrument, double Value, string? By)> _measured = new();
    private readonly ConcurrentDictionary<string, Instrument> _instruments = new();

    public SqliteStorageMetricsTests()
    {
        var meters = _services.GetRequiredService<IMeterFactory>();
        // Only this test's storage: other tests' storages run in the same process, on meters of the same name.
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name != SqliteGrainStorage.MeterName || instrument.Meter.Scope != meters) return;
            _instruments[instrument.Name] = instrument;
            listener.EnableMeasurementEvents(instrument);
        };
        _listener.SetMeasurementEventCallback<int>((i, v, tags, _) => Add(i, v, tags));
        _listener.SetMeasurementEventCallback<long>((i, v, tags, _) => Add(i, v, tags));
        _listener.SetMeasurementEventCallback<double>((i, v, tags, _) => Add(i, v, tags));
        _listener.Start();
    }

    private void Add(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        string? by = null;
        foreach (var tag in tags)
            if (tag.Key == "scheduler.storage.checkpoint.by") by = tag.Value as string;
        _measured.Enqueue((instrument.Name, value, by));
    }

    private SqliteGrainStorage NewStorage(string file)
    {
        Directory.CreateDirectory(_directory);
        return new SqliteGrainStorage(new SqliteGrainStorageOptions { DatabasePath = Path.Combine(_directory, file) }, StorageBackends.Serializer,
            _services.GetRequiredService<IMeterFactory>());
    }

    private List<double> Values(string instrument) => _measured.Where(m => m.Instrument == instrument).Select(m => m.Value).ToList();

    [Fact]
    public async Task EveryCommittedWrite_IsCountedInABatch_WithItsBytesAndTimes()
    {
        var storage = NewStorage("batches.db");
        const int writes = 40;
        var records = Enumerable.Range(0, writes).Select(i => new ProbeGrainState { State = new ProbeState { Value = i, Writer = new string('x', 1000 + i) } }).ToArray();
        // Ten one after another, each its own batch; then the rest at once, in as many batches as the writer finds queued.
        for (var i = 0; i < 10; i++) await storage.WriteStateAsync("probe", Key(i), records[i]);
        await Task.WhenAll(records.Skip(10).Select((r, i) => storage.WriteStateAsync("probe", Key(10 + i), r)));

        var batches = Values("scheduler.storage.batch.writes");
        Assert.Equal(writes, batches.Sum());
        Assert.True(batches.Count >= 11, $"{batches.Count} batches");
        Assert.All(batches, n => Assert.InRange(n, 1, writes));
        // One duration and one wait per batch, none negative.
        Assert.Equal(batches.Count, Values("scheduler.storage.batch.duration").Count);
        Assert.All(Values("scheduler.storage.batch.duration"), ms => Assert.True(ms >= 0));
        Assert.Equal(batches.Count, Values("scheduler.storage.queue_wait").Count);
        Assert.All(Values("scheduler.storage.queue_wait"), ms => Assert.True(ms >= 0));
        // Buckets fine enough for batches of a tenth of a millisecond (the exporters' default starts at 0, 5, 10 ms).
        foreach (var name in new[] { "scheduler.storage.batch.duration", "scheduler.storage.queue_wait" })
            Assert.Contains(0.1, Assert.IsType<Histogram<double>>(_instruments[name]).Advice?.HistogramBucketBoundaries ?? []);
        // Each payload holds its 1,000-odd characters at least once.
        Assert.True(Values("scheduler.storage.written").Sum() >= writes * 1000, $"{Values("scheduler.storage.written").Sum()} bytes counted");
        await storage.DisposeAsync();
    }

    [Fact]
    public async Task ACheckpoint_IsCounted_AndTheLogSizeRead()
    {
        var storage = NewStorage("checkpoints.db");
        // More than the bytes after which the writer asks the checkpointer to copy the log (4 MiB).
        var record = new ProbeGrainState();
        for (var i = 0; i < 20; i++)
        {
            record.State = new ProbeState { Value = i, Writer = new string((char)('a' + i), 256 << 10) };
            await storage.WriteStateAsync("probe", Key(0), record);
        }
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!_measured.Any(m => m.Instrument == "scheduler.storage.checkpoints") && DateTime.UtcNow < deadline) await Task.Delay(20);

        Assert.Contains(_measured, m => m.Instrument == "scheduler.storage.checkpoints" && m.By == "checkpointer");
        _listener.RecordObservableInstruments();
        var logBytes = Values("scheduler.storage.log.size");
        Assert.NotEmpty(logBytes);
        Assert.True(logBytes[^1] > 0 && logBytes[^1] % 4096 == 0, $"log size {logBytes[^1]} bytes");
        Assert.Empty(Values("scheduler.storage.hold_backs")); // the log stayed below the writer's bound (32 MiB)
        await storage.DisposeAsync();
    }

    private static GrainId Key(int i) => GrainId.Create("metrics", i.ToString(System.Globalization.CultureInfo.InvariantCulture));

    public void Dispose()
    {
        _listener.Dispose();
        _services.Dispose();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try { Directory.Delete(_directory, recursive: true); } catch (IOException) { }
    }
}
