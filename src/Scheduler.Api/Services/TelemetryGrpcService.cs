namespace Scheduler.Api.Services;

using System.Diagnostics;
using Grpc.Core;
using Scheduler.Api.V1;
using Scheduler.Grains;
using GenerationSample = Scheduler.Api.V1.GenerationSample;

/// <summary>Plants push generation samples; each is validated by its plant grain and never changes state if bad.</summary>
internal sealed class TelemetryGrpcService(IGrainFactory grains, TelemetryTracing tracing, TelemetryHold hold) : TelemetryService.TelemetryServiceBase
{
    private const int MaxRejectionsReported = 100;

    /// <summary>
    /// Samples of one stream validated at once. One at a time, a stream is bound by the round trip to the plant grain
    /// (about 0.3 ms, so 3-4k samples/s per stream whatever the cores); a few in flight hide it. Bounded, so that a
    /// fast client meets HTTP/2 flow control rather than filling the silo's queues.
    /// </summary>
    private const int MaxInFlightPerStream = 32;

    public override async Task<PushGenerationResponse> PushGeneration(IAsyncStreamReader<GenerationSample> requestStream, ServerCallContext context)
    {
        var response = new PushGenerationResponse();
        // In stream order: results are counted and rejections described in the order the samples came.
        var inFlight = new Queue<(long Index, string PlantId, Task<SampleVerdict> Verdict)>(MaxInFlightPerStream);
        // The newest sample in flight per plant: a plant's next sample waits for it, so each plant sees its samples in
        // order (Orleans does not order concurrent calls to one grain, and a plant refuses a sample older than its last).
        var latest = new Dictionary<string, Task>(StringComparer.Ordinal);
        long index = 0;
        // The stream's own activity (the request's), for traced samples to link to; the untraced run under their own.
        var stream = Activity.Current;
        using var untraced = TelemetryTracing.StartUntraced();

        void Complete((long Index, string PlantId, Task<SampleVerdict> Task) sample, SampleVerdict verdict)
        {
            if (latest.TryGetValue(sample.PlantId, out var last) && last == sample.Task) latest.Remove(sample.PlantId);
            if (verdict.Accepted) response.Accepted++;
            else
            {
                response.Rejected++;
                if (response.Rejections.Count < MaxRejectionsReported)
                    response.Rejections.Add(new SampleRejection { Index = sample.Index, PlantId = sample.PlantId, Field = verdict.Field, Description = verdict.Reason });
            }
        }

        // Rule for streams: a bad sample is dropped, counted and (the first 100) described; the stream goes on.
        // The grain calls are not tied to the stream's cancellation: a cancelled stream ends at its next read, after at
        // most the samples in flight, and tying each call to it cost every sample a registration and a task.
        await foreach (var sample in requestStream.ReadAllAsync(context.CancellationToken))
        {
            var receivedAt = DateTimeOffset.UtcNow;
            await hold.WhenReleasedAsync();
            if (latest.TryGetValue(sample.PlantId, out var previous))
                await previous.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing); // its failure surfaces when it is completed
            var verdict = ReportAsync(sample, receivedAt, stream);
            latest[sample.PlantId] = verdict;
            inFlight.Enqueue((index++, sample.PlantId, verdict));
            if (inFlight.Count >= MaxInFlightPerStream)
            {
                var oldest = inFlight.Dequeue();
                Complete(oldest, await oldest.Verdict);
            }
        }
        while (inFlight.TryDequeue(out var oldest)) Complete(oldest, await oldest.Verdict);
        return response;
    }

    public override async Task<ReportGenerationResponse> ReportGeneration(GenerationSample request, ServerCallContext context)
    {
        var receivedAt = DateTimeOffset.UtcNow;
        await hold.WhenReleasedAsync().WaitAsync(context.CancellationToken);
        var verdict = await ReportAsync(request, receivedAt, Activity.Current).WaitAsync(context.CancellationToken);
        if (!verdict.Accepted) new RequestValidation().Add(verdict.Field!, verdict.Reason!).ThrowIfInvalid();
        return new ReportGenerationResponse { Accepted = true };
    }

    /// <param name="receivedAt">
    /// When the sample was read off the request: decision latency runs from here, so the time it then waits (for a
    /// round's hold, <see cref="TelemetryHold"/>, and in the silo's queues behind the rest of its burst) counts.
    /// Counted from its plant grain instead (before session 15), a front's sample had already waited 0.3–10 ms since
    /// the load tool sent it (docs/performance.md).
    /// </param>
    /// <param name="parent">The request's activity: a traced sample links to it. An untraced one runs under the current activity.</param>
    private Task<SampleVerdict> ReportAsync(GenerationSample sample, DateTimeOffset receivedAt, Activity? parent)
    {
        if (TelemetryValidation.CheckShape(sample) is { } bad) return Task.FromResult(new SampleVerdict(false, bad.Field, bad.Reason));
        return tracing.PickSample() ? ReportTracedAsync(sample, receivedAt, parent) : ReportToPlantAsync(sample, receivedAt);
    }

    private async Task<SampleVerdict> ReportTracedAsync(GenerationSample sample, DateTimeOffset receivedAt, Activity? parent)
    {
        // A traced sample is a trace of its own, linked to its stream: a stream lives for hours and carries thousands
        // of samples, so tracing the stream as one trace would trace all of them or none.
        var current = Activity.Current;
        Activity.Current = null;
        try
        {
            using var span = SchedulerDiagnostics.Source.StartActivity(SchedulerDiagnostics.TelemetrySampleSpan, ActivityKind.Internal, default(ActivityContext),
                links: parent is null ? null : [new ActivityLink(parent.Context)]);
            span?.SetTag(SchedulerDiagnostics.Tags.Plant, sample.PlantId);
            return await ReportToPlantAsync(sample, receivedAt);
        }
        finally
        {
            Activity.Current = current;
        }
    }

    private Task<SampleVerdict> ReportToPlantAsync(GenerationSample sample, DateTimeOffset receivedAt) =>
        grains.Get<IPlantGrain>(sample.PlantId).ReportAsync(sample.ToModel(), receivedAt);
}
