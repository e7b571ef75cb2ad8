namespace Scheduler.LoadTest;

using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Builder;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;
using OpenTelemetry;
using OpenTelemetry.Trace;
using Scheduler.Api.Client;
using Scheduler.Api.Hosting;
using Scheduler.Api.Security;
using Scheduler.Grains;
using Scheduler.Host.Demo;
using Scheduler.Host.Hosting;

/// <summary>
/// The real host (silo + gRPC API + the built-in fleet) on free loopback ports, composed as
/// <c>src/Scheduler.Host/Program.cs</c> composes it, with: <c>--no-demo</c>, the system clock, the fleet clock on
/// (1 s ticks), a fresh temporary data directory, logging at Warning. With tracing, the host's telemetry is registered
/// (and the Prometheus endpoint mapped) and every sampled span is handed to an in-process exporter that counts and
/// drops it (a batch processor, as OTLP uses). Without, neither is: no OpenTelemetry at all.
/// </summary>
internal sealed class LoadHost : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly string _dataDir;

    private readonly string _token;

    private LoadHost(WebApplication app, string dataDir, int grpcPort, SpanCounter? spans)
    {
        _app = app;
        // The load tool is an operator client (operators are not rate-limited): its token comes from the host's keys.
        _token = app.Services.GetRequiredService<SchedulerCredentials>().MintOperator("load-test", TimeSpan.FromDays(1));
        _dataDir = dataDir;
        GrpcAddress = $"http://127.0.0.1:{grpcPort}";
        Spans = spans;
    }

    public string GrpcAddress { get; }

    /// <summary>Spans ended and exported so far (null without tracing).</summary>
    public SpanCounter? Spans { get; }

    public GrpcChannel NewChannel() => SchedulerChannel.Create(GrpcAddress, _token);

    /// <summary>The host's services (the silo's grain factory, for the grain-call baseline).</summary>
    public IServiceProvider Services => _app.Services;

    /// <param name="tracing">
    /// Traces as the host has them by default; off, the host runs its telemetry without traces
    /// (<c>Scheduler:Tracing:Enabled=false</c>: metrics, logs and the Prometheus endpoint stay), so that the difference
    /// between the two is what tracing costs.
    /// </param>
    /// <param name="sampleRatio"><c>Scheduler:Tracing:SampleRatio</c> and <c>TelemetrySampleRatio</c>, or null for the host's defaults.</param>
    /// <param name="spanProfile">Also time spans by name (see <see cref="SpanCounter"/>).</param>
    /// <param name="settings">More host settings, <c>--Key=value</c>.</param>
    public static async Task<LoadHost> StartAsync(bool tracing, double? sampleRatio, bool spanProfile, params string[] settings)
    {
        var dataDir = Path.Combine(Path.GetTempPath(), "scheduler-load-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(dataDir);
        var ports = LoopbackPorts.Free(4);
        // The content root is the empty data directory: no appsettings.json is picked up, every setting is a default
        // or given here.
        string[] args =
        [
            "--no-demo", "--data-dir", dataDir,
            "--grpc-port", ports[0].ToString(), "--http-port", ports[1].ToString(),
            "--silo-port", ports[2].ToString(), "--gateway-port", ports[3].ToString(),
            "--Scheduler:AutoTick=true", "--Scheduler:TickInterval=00:00:01",
            "--Logging:LogLevel:Default=Warning", "--Scheduler:Auth:CredentialFile=",
            .. sampleRatio is { } ratio
                ? [$"--Scheduler:Tracing:SampleRatio={ratio.ToString(CultureInfo.InvariantCulture)}", $"--Scheduler:Tracing:TelemetrySampleRatio={ratio.ToString(CultureInfo.InvariantCulture)}"]
                : Array.Empty<string>(),
            .. tracing ? Array.Empty<string>() : ["--Scheduler:Tracing:Enabled=false"],
            .. settings,
        ];
        SpanCounter? spans = tracing ? new SpanCounter(spanProfile) : null;
        var app = SchedulerApp.Build(new WebApplicationOptions { ContentRootPath = dataDir, Args = args }, builder =>
        {
            // Host logs (Warning and up) go to stderr with the progress lines; stdout is the results table.
            builder.Services.Configure<ConsoleLoggerOptions>(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
            builder.Services.AddSingleton(new SchedulerClock(TimeProvider.System));
            // Default batch settings, as the OTLP exporter uses them (a full queue drops spans: ended - exported).
            if (spans is not null)
                builder.Services.ConfigureOpenTelemetryTracerProvider(t => t
                    .AddProcessor(spans)
                    .AddProcessor(new BatchActivityExportProcessor(spans.Exporter)));
        });
        await app.StartAsync();
        return new LoadHost(app, dataDir, ports[0], spans);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        SqliteConnection.ClearAllPools();
        try { Directory.Delete(_dataDir, recursive: true); }
        catch (IOException ex) { Console.Error.WriteLine($"could not delete {_dataDir}: {ex.Message}"); }
    }

}

/// <summary>
/// Counts spans as they end and keeps, per span name and kind, how many ended and their total and longest duration (to see
/// where a tracing-on run spends its time); its <see cref="Exporter"/> counts each exported span and drops it.
/// </summary>
internal sealed class SpanCounter(bool profile) : BaseProcessor<Activity>
{
    private long _ended;
    private ConcurrentDictionary<(string Name, ActivityKind Kind), SpanStats> _byName = new();

    public CountingExporter Exporter { get; } = new();

    public long Ended => Interlocked.Read(ref _ended);

    public long Exported => Exporter.Count;

    public override void OnEnd(Activity data)
    {
        Interlocked.Increment(ref _ended);
        if (profile) _byName.GetOrAdd((data.DisplayName, data.Kind), static _ => new SpanStats()).Add(data.Duration);
    }

    /// <summary>Span durations by name since the last call, longest total first (empty without profiling).</summary>
    public IReadOnlyList<SpanProfile> TakeProfile(int top)
    {
        var taken = Interlocked.Exchange(ref _byName, new ConcurrentDictionary<(string Name, ActivityKind Kind), SpanStats>());
        return [.. taken.Select(kv => kv.Value.ToProfile(kv.Key.Name, kv.Key.Kind.ToString().ToLowerInvariant())).OrderByDescending(p => p.TotalMs).Take(top)];
    }

    private sealed class SpanStats
    {
        private long _count, _totalTicks, _maxTicks;

        public void Add(TimeSpan duration)
        {
            Interlocked.Increment(ref _count);
            Interlocked.Add(ref _totalTicks, duration.Ticks);
            long max;
            while (duration.Ticks > (max = Interlocked.Read(ref _maxTicks)) && Interlocked.CompareExchange(ref _maxTicks, duration.Ticks, max) != max)
            {
            }
        }

        public SpanProfile ToProfile(string name, string kind)
        {
            var total = TimeSpan.FromTicks(Interlocked.Read(ref _totalTicks)).TotalMilliseconds;
            var count = Interlocked.Read(ref _count);
            return new SpanProfile(name, kind, count, Math.Round(total, 1), Math.Round(total / Math.Max(1, count), 3),
                Math.Round(TimeSpan.FromTicks(Interlocked.Read(ref _maxTicks)).TotalMilliseconds, 2));
        }
    }
}

/// <summary>Ended spans of one name and kind (client, server, internal): how many, their total, mean and longest duration.</summary>
internal sealed record SpanProfile(string Name, string Kind, long Count, double TotalMs, double MeanMs, double MaxMs);

/// <summary>A no-op span consumer: counts each exported span and drops it.</summary>
internal sealed class CountingExporter : BaseExporter<Activity>
{
    private long _count;

    public long Count => Interlocked.Read(ref _count);

    public override ExportResult Export(in Batch<Activity> batch)
    {
        Interlocked.Add(ref _count, batch.Count);
        return ExportResult.Success;
    }
}
