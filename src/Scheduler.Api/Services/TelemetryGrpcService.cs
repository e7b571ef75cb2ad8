namespace Scheduler.Api.Services;

using System.Diagnostics;
using Grpc.Core;
using Scheduler.Api.V1;
using Scheduler.Grains;
using GenerationSample = Scheduler.Api.V1.GenerationSample;

/// <summary>Plants push generation samples; each is validated by its plant grain and never changes state if bad.</summary>
internal sealed class TelemetryGrpcService(IGrainFactory grains) : TelemetryService.TelemetryServiceBase
{
    private const int MaxRejectionsReported = 100;

    public override async Task<PushGenerationResponse> PushGeneration(IAsyncStreamReader<GenerationSample> requestStream, ServerCallContext context)
    {
        var response = new PushGenerationResponse();
        long index = 0;
        // Rule for streams: a bad sample is dropped, counted and (the first 100) described; the stream goes on.
        await foreach (var sample in requestStream.ReadAllAsync(context.CancellationToken))
        {
            var (field, reason) = await ReportAsync(sample, context.CancellationToken);
            if (field is null) response.Accepted++;
            else
            {
                response.Rejected++;
                if (response.Rejections.Count < MaxRejectionsReported)
                    response.Rejections.Add(new SampleRejection { Index = index, PlantId = sample.PlantId, Field = field, Description = reason });
            }
            index++;
        }
        return response;
    }

    public override async Task<ReportGenerationResponse> ReportGeneration(GenerationSample request, ServerCallContext context)
    {
        var (field, reason) = await ReportAsync(request, context.CancellationToken);
        if (field is not null)
        {
            if (field == "plant_id" && reason!.StartsWith("unknown", StringComparison.Ordinal)) throw new RpcException(new Status(StatusCode.NotFound, reason));
            new RequestValidation().Add(field, reason!).ThrowIfInvalid();
        }
        return new ReportGenerationResponse { Accepted = true };
    }

    private async Task<(string? Field, string? Reason)> ReportAsync(GenerationSample sample, CancellationToken cancellation)
    {
        var check = new RequestValidation().Id(sample.PlantId, "plant_id").Check(sample.Time is not null, "time", "required");
        for (var i = 0; i < sample.Forecast.Count; i++) check.Check(sample.Forecast[i].Time is not null, $"forecast[{i}].time", "required");
        try { check.ThrowIfInvalid(); }
        catch (RpcException ex) { return ("request", ex.Status.Detail); }
        // Each sample is its own trace, sampled on its own (linked to the stream): a stream lives for hours and carries
        // thousands of samples, so sampling the stream as one trace would trace all of them or none.
        var stream = Activity.Current;
        Activity.Current = null;
        try
        {
            using var span = SchedulerDiagnostics.Source.StartActivity(SchedulerDiagnostics.TelemetrySampleSpan, ActivityKind.Internal, default(ActivityContext),
                links: stream is null ? null : [new ActivityLink(stream.Context)]);
            span?.SetTag(SchedulerDiagnostics.Tags.Plant, sample.PlantId);
            var verdict = await grains.GetGrain<IPlantGrain>(sample.PlantId).ReportAsync(sample.ToModel()).WaitAsync(cancellation);
            return verdict.Accepted ? (null, null) : (verdict.Field, verdict.Reason);
        }
        finally
        {
            Activity.Current = stream;
        }
    }
}
