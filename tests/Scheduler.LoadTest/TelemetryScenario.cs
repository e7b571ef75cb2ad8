namespace Scheduler.LoadTest;

using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Scheduler.Api.V1;
using SchedulerDiagnostics = Scheduler.Grains.SchedulerDiagnostics;

internal sealed record TelemetryResult(
    int Streams,
    double Seconds,
    double OverrunSeconds,
    long Sent,
    long Accepted,
    long Rejected,
    double SamplesPerSecond,
    int StreamErrors,
    IReadOnlyList<string> Problems,
    IReadOnlyList<long> ValidatedPerSecond,
    long? Spans,
    double? SpansPerSecond,
    IReadOnlyList<SpanProfile>? SpanProfile,
    RuntimeStats Runtime)
{
    /// <summary>Process CPU (server and the in-process client) per accepted sample, µs.</summary>
    public double CpuMicrosecondsPerSample => Accepted > 0 ? Math.Round(Runtime.CpuSeconds * 1e6 / Accepted, 2) : double.NaN;
}

/// <summary>
/// Scenario 2: <c>streams</c> concurrent <c>PushGeneration</c> client streams, each on its own connection (a plant
/// gateway each), each carrying its share of the plants: one sample per plant per round, stamped "now" and strictly
/// increasing per plant, until the duration is up. Throughput counts what the server's replies say it accepted,
/// from the first write until the last reply. A write completes once HTTP/2 flow control lets it out, so a client
/// can run up to a stream window ahead of the server; the server works through that after the duration is up
/// (OverrunSeconds), and the rate counts that time too. Progress lines (and ValidatedPerSecond) count the samples the
/// plant grains have validated, from the scheduler's own counter <c>scheduler.telemetry.samples</c>.
/// </summary>
/// <remarks>With <c>pace</c>, each stream sends one round per <c>pace</c> (1 s: every plant at 1 Hz, as plants report)
/// instead of as fast as it can; with <c>spread</c> too, each site's plants report at the site's own point of the round
/// (sites evenly over it), as each site's gateway would, rather than all at its start. Each sample is its plant's
/// nameplate times the <c>weather</c> (default: the waves).</remarks>
internal sealed class TelemetryScenario(LoadHost host, LoadFleet fleet, int streams, TimeSpan? pace = null, Weather? weather = null, bool spread = false)
{
    private static readonly TimeSpan MinStep = TimeSpan.FromMicroseconds(1);

    /// <param name="stop">Ends the streams (completed normally) before the duration is up.</param>
    public async Task<TelemetryResult> RunAsync(TimeSpan duration, string label, CancellationToken cancellation, CancellationToken stop = default)
    {
        long sent = 0;
        var problems = new ConcurrentQueue<string>();
        // In the order each round sends them: by their site's point of the round when spread.
        var shares = Enumerable.Range(0, streams)
            .Select(s => fleet.Plants.Where(p => p.Index % streams == s).OrderBy(p => spread ? p.SiteIndex : 0).ToArray()).ToArray();
        var spansBefore = host.Spans?.Ended;
        host.Spans?.TakeProfile(0);
        var runtime = RuntimeStats.Start();
        var started = Stopwatch.GetTimestamp();

        async Task<PushGenerationResponse?> StreamAsync(LoadPlant[] share)
        {
            using var channel = host.NewChannel();
            var client = new TelemetryService.TelemetryServiceClient(channel);
            try
            {
                using var call = client.PushGeneration(cancellationToken: cancellation);
                for (var round = 0; Stopwatch.GetElapsedTime(started) < duration && !cancellation.IsCancellationRequested && !stop.IsCancellationRequested; round++)
                {
                    if (pace is { } p && p * round - Stopwatch.GetElapsedTime(started) is { Ticks: > 0 } wait)
                        await Task.Delay(wait, stop).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                    if (stop.IsCancellationRequested) break;
                    foreach (var plant in share)
                    {
                        if (spread && pace is { } q && q * (round + (double)plant.SiteIndex / fleet.SiteIds.Count) - Stopwatch.GetElapsedTime(started) is { Ticks: > 0 } due)
                            await Task.Delay(due, stop).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                        if (stop.IsCancellationRequested) break;
                        var now = DateTimeOffset.UtcNow;
                        var at = now > plant.LastSentAt ? now : plant.LastSentAt + MinStep;
                        plant.LastSentAt = at;
                        await call.RequestStream.WriteAsync(new GenerationSample
                        {
                            PlantId = plant.Id,
                            Time = Timestamp.FromDateTimeOffset(at),
                            Megawatts = plant.NameplateMw * (weather ?? Weathers.Waves)(plant, round),
                        }, cancellation);
                        Interlocked.Increment(ref sent);
                    }
                }
                await call.RequestStream.CompleteAsync();
                return await call.ResponseAsync;
            }
            catch (RpcException ex)
            {
                problems.Enqueue($"telemetry stream failed: {ex.Status.StatusCode}: {ex.Status.Detail}");
                return null;
            }
        }

        PushGenerationResponse?[] replies;
        ProgressTicker ticker;
        using var validated = new ServerSampleCounter();
        await using (ticker = new ProgressTicker(label, () => validated.Count, "samples validated by the server",
                         () => $"({Interlocked.Read(ref sent):N0} written)"))
            replies = await Task.WhenAll(shares.Select(share => Task.Run(() => StreamAsync(share), cancellation)));
        var seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
        var overrun = Math.Max(0, seconds - duration.TotalSeconds);
        var stats = runtime();

        var ok = replies.OfType<PushGenerationResponse>().ToList();
        var accepted = ok.Sum(r => r.Accepted);
        var rejected = ok.Sum(r => r.Rejected);
        foreach (var r in ok.SelectMany(r => r.Rejections).Take(5))
            problems.Enqueue($"rejected sample #{r.Index} of {r.PlantId}: {r.Field}: {r.Description}");
        var spans = host.Spans?.Ended - spansBefore;
        return new TelemetryResult(streams, seconds, overrun, Interlocked.Read(ref sent), accepted, rejected, accepted / seconds,
            replies.Length - ok.Count, [.. problems], [.. ticker.PerSecond], spans, spans / seconds, host.Spans?.TakeProfile(12), stats);
    }
}

/// <summary>
/// Samples the server has validated so far, read from the scheduler's counter <c>scheduler.telemetry.samples</c> with
/// an in-process listener (the instrument is enabled for this listener only; it costs a counter add per sample).
/// </summary>
internal sealed class ServerSampleCounter : IDisposable
{
    private readonly MeterListener _listener = new();
    private long _count;

    public ServerSampleCounter()
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == SchedulerDiagnostics.SourceName && instrument.Name == "scheduler.telemetry.samples")
                listener.EnableMeasurementEvents(instrument);
        };
        _listener.SetMeasurementEventCallback<long>((_, value, _, _) => Interlocked.Add(ref _count, value));
        _listener.Start();
    }

    public long Count => Interlocked.Read(ref _count);

    public void Dispose() => _listener.Dispose();
}
