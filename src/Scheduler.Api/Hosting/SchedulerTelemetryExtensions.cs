namespace Scheduler.Api.Hosting;

using System.Diagnostics;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using OpenTelemetry;
using OpenTelemetry.Logs;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using Scheduler.Grains;

/// <summary>Section <c>Scheduler:Tracing</c>.</summary>
public sealed class SchedulerTracingOptions
{
    /// <summary>
    /// Share of traces kept for requests and the scheduler's other work, but jobs, decisions and telemetry samples
    /// (parent-based: a span follows its parent's choice). Job roots and decision spans are always kept. Default: 0.05.
    /// </summary>
    public double SampleRatio { get; set; } = 0.05;

    /// <summary>
    /// Share of telemetry samples traced, each its own trace of about five spans, picked by <see cref="TelemetryTracing"/>
    /// before any span exists. Samples are the scheduler's highest-volume work (1,000 plants at 1 Hz are 1,000 a
    /// second), so the default keeps one in a hundred: ten sample traces a second at that scale. Default: 0.01.
    /// </summary>
    public double TelemetrySampleRatio { get; set; } = 0.01;

    /// <summary>
    /// Traces at all. Off, metrics and logs go on as before and no span is created; the load tool measures the cost
    /// of tracing against a host with it off. Default: true.
    /// </summary>
    public bool Enabled { get; set; } = true;
}

/// <summary>
/// Always keeps job and decision spans. A trace may otherwise start only at an incoming request or at the scheduler's
/// own work (a telemetry sample, a tick), sampled at the ratio; a grain call without a traced caller starts none. Without
/// that rule every grain call under an unsampled telemetry sample would roll the dice again, several times per sample.
/// </summary>
/// <remarks>
/// The grain calls a job or decision span makes (the job taking the decision, its site starting it) are the mechanics,
/// not the reasons, which the span itself carries. They are kept for the ratio's share of job traces, picked by trace
/// id so that a job's trace has all of them or none: kept for every job, they were four of each placement's six spans.
/// </remarks>
internal sealed class SchedulerSampler(double ratio) : Sampler
{
    private const string RequestSpan = "Microsoft.AspNetCore.Hosting.HttpRequestIn";
    private readonly Sampler _byTraceId = new TraceIdRatioBasedSampler(ratio);
    private readonly Sampler _others = new ParentBasedSampler(new TraceIdRatioBasedSampler(ratio));

    public override SamplingResult ShouldSample(in SamplingParameters parameters)
    {
        if (SchedulerDiagnostics.IsAlwaysSampled(parameters.Name)) return new SamplingResult(SamplingDecision.RecordAndSample);
        var isRoot = parameters.ParentContext.TraceId == default;
        if (isRoot && parameters.Name != RequestSpan && !SchedulerDiagnostics.MayStartTrace(parameters.Name))
            return new SamplingResult(SamplingDecision.Drop);
        // The parent, when it is this process's current span (as for every span started without an explicit parent).
        if (Activity.Current is { } parent && parent.SpanId == parameters.ParentContext.SpanId && SchedulerDiagnostics.IsKeptForItself(parent))
            return _byTraceId.ShouldSample(parameters);
        return _others.ShouldSample(parameters);
    }
}

/// <summary>
/// One OpenTelemetry set-up for every process that serves the API: the co-hosted silo and the stateless gateway, so a
/// request's trace reads the same whichever topology served it.
/// </summary>
public static class SchedulerTelemetryExtensions
{
    /// <summary>The service name of the silo (co-hosted or not) in traces and metrics.</summary>
    public const string SiloServiceName = "green-scheduler";

    /// <summary>
    /// Traces (the scheduler's source, Orleans' application calls, ASP.NET Core requests), metrics (the scheduler's
    /// meter) and logs through OpenTelemetry. Export over OTLP is on when <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set;
    /// every other standard <c>OTEL_*</c> variable applies. Orleans' runtime sources (membership, timers) stay off.
    /// </summary>
    /// <param name="serviceName">The <c>service.name</c> resource: <see cref="SiloServiceName"/> for silos, another for the gateway.</param>
    public static IHostApplicationBuilder AddSchedulerTelemetry(this IHostApplicationBuilder builder, string serviceName = SiloServiceName)
    {
        var options = builder.Configuration.GetSection("Scheduler:Tracing").Get<SchedulerTracingOptions>() ?? new();
        var errors = new List<string>();
        if (!(options.SampleRatio is >= 0 and <= 1)) errors.Add($"Scheduler:Tracing:SampleRatio must be within [0, 1], was {options.SampleRatio}");
        if (!(options.TelemetrySampleRatio is >= 0 and <= 1))
            errors.Add($"Scheduler:Tracing:TelemetrySampleRatio must be within [0, 1], was {options.TelemetrySampleRatio}");
        if (errors.Count > 0) throw new Microsoft.Extensions.Options.OptionsValidationException("Scheduler:Tracing", typeof(SchedulerTracingOptions), errors);

        builder.Services.AddSingleton(options.Enabled ? new TelemetryTracing(options.TelemetrySampleRatio) : TelemetryTracing.Off);
        var telemetry = builder.Services.AddOpenTelemetry()
            .ConfigureResource(r => r.AddService(serviceName: serviceName))
            .WithMetrics(m => m.AddMeter(SchedulerDiagnostics.SourceName).AddPrometheusExporter())
            .WithLogging();
        if (options.Enabled)
            telemetry.WithTracing(t => t
                .SetSampler(new SchedulerSampler(options.SampleRatio))
                .AddSource(SchedulerDiagnostics.SourceName, GrainCallTracing.SourceName, "Microsoft.AspNetCore"));
        if (!string.IsNullOrWhiteSpace(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"])) telemetry.UseOtlpExporter();
        return builder;
    }

    /// <summary>The Prometheus scrape endpoint <c>/metrics</c>, on the HTTP/1.1 port <paramref name="httpPort"/> only.</summary>
    public static IEndpointRouteBuilder MapSchedulerMetrics(this IEndpointRouteBuilder endpoints, int httpPort)
    {
        endpoints.MapPrometheusScrapingEndpoint("/metrics").RequireHost($"*:{httpPort}");
        return endpoints;
    }
}
