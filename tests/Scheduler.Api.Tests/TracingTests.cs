namespace Scheduler.Api.Tests;

using System.Diagnostics;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry;
using OpenTelemetry.Trace;
using Scheduler.Api.V1;
using Scheduler.Grains;

/// <summary>
/// Activity listeners are process-wide: a host's tracer sees the spans of every host in the test process. Tests that
/// read spans run alone, after the parallel ones.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class TracingCollection
{
    public const string Name = "tracing";
}

/// <summary>Decisions as traces and metrics, read back through an in-memory span collector and a meter listener.</summary>
[Collection(TracingCollection.Name)]
public sealed class TracingTests : IAsyncLifetime
{
    private readonly List<Activity> _spans = [];
    private SchedulerHost _host = null!;

    // Every trace kept: these tests read the structure of traces, not the sampling.
    public async Task InitializeAsync() => _host = await SchedulerHost.StartFreshAsync(b =>
    {
        b.Configuration["Scheduler:Tracing:SampleRatio"] = "1";
        b.Configuration["Scheduler:Tracing:TelemetrySampleRatio"] = "1";
        // Spans end on grain and request threads while the test reads: collect under the lock the reads take
        // (the in-memory exporter adds to its list without one).
        b.Services.ConfigureOpenTelemetryTracerProvider(t => t.AddProcessor(new LockedCollector(_spans)));
    });

    private sealed class LockedCollector(List<Activity> spans) : BaseProcessor<Activity>
    {
        public override void OnEnd(Activity data)
        {
            lock (spans) spans.Add(data);
        }
    }

    public async Task DisposeAsync() => await _host.DisposeAsync();

    private Task WindAtAsync(string windySite) => _host.PushWindAsync(windySite);

    /// <summary>Places a job where the wind is, then moves the wind: the job is placed, then relocated.</summary>
    private async Task<string> PlaceThenRelocateAsync()
    {
        await _host.TickAsync(TimeSpan.FromMinutes(1));
        await WindAtAsync("horinger");
        var job = await new JobService.JobServiceClient(_host.Channel).CreateJobAsync(new CreateJobRequest
        {
            RequestId = "trace-1", Job = new JobSpec { Tenant = "traced", Gpus = 64, WorkGpuHours = 500, Relocatable = true, CheckpointGb = 50 },
        });
        await _host.TickAsync(TimeSpan.Zero);
        for (var i = 0; i < 3; i++)
        {
            _host.Time.Advance(TimeSpan.FromMinutes(30));
            await WindAtAsync("ulanqab");
            await _host.TickAsync(TimeSpan.Zero);
        }
        return job.Id;
    }

    [Fact]
    public async Task AJobLeftWaiting_IsOneRejectDecisionInTheJobsOwnTrace_LikeItsDeferredEvent()
    {
        await _host.TickAsync(TimeSpan.FromMinutes(1));
        var jobs = new JobService.JobServiceClient(_host.Channel);
        var job = await jobs.CreateJobAsync(new CreateJobRequest
        {
            RequestId = "waits-1", Job = new JobSpec { Tenant = "traced", Gpus = 64, WorkGpuHours = 500, Interruptible = true },
        });
        // No wind anywhere: the job waits for surplus, and a second tick with the same reason records nothing new.
        await _host.TickAsync(TimeSpan.Zero);
        await _host.TickAsync(TimeSpan.Zero);

        var explanation = await jobs.ExplainJobAsync(new ExplainJobRequest { Id = job.Id });
        var deferred = Assert.Single((await jobs.GetJobAsync(new GetJobRequest { Id = job.Id })).History, e => e.Kind == "deferred");
        Activity reject;
        lock (_spans)
            reject = Assert.Single(_spans, s => s.OperationName == SchedulerDiagnostics.DecisionSpan
                && (string?)s.GetTagItem(SchedulerDiagnostics.Tags.JobId) == job.Id && (string?)s.GetTagItem(SchedulerDiagnostics.Tags.DecisionKind) == "reject");
        Assert.Equal(("waiting-for-surplus", "waiting-for-surplus"), ((string?)reject.GetTagItem(SchedulerDiagnostics.Tags.Reason), deferred.Reason));
        Assert.Equal(explanation.TraceId, reject.TraceId.ToHexString());
        Assert.Equal(explanation.TraceId, deferred.TraceId);
    }

    [Fact]
    public async Task Decisions_AreSpansInTheJobsOwnTrace_CarryingTheirReasons()
    {
        var jobId = await PlaceThenRelocateAsync();
        var explanation = await new JobService.JobServiceClient(_host.Channel).ExplainJobAsync(new ExplainJobRequest { Id = jobId });

        Activity[] decisions;
        lock (_spans) decisions = _spans.Where(s => s.OperationName == SchedulerDiagnostics.DecisionSpan && (string?)s.GetTagItem(SchedulerDiagnostics.Tags.JobId) == jobId).ToArray();
        Assert.Equal(["place", "relocate"], decisions.Select(d => (string?)d.GetTagItem(SchedulerDiagnostics.Tags.DecisionKind)));
        // One connected trace per job: its root (linked to the CreateJob request) and every decision about it.
        Assert.NotEmpty(explanation.TraceId);
        Assert.All(decisions, d => Assert.Equal(explanation.TraceId, d.TraceId.ToHexString()));
        Activity root;
        lock (_spans) root = Assert.Single(_spans, s => s.OperationName == SchedulerDiagnostics.JobSpan && s.TraceId.ToHexString() == explanation.TraceId);
        Assert.Equal(jobId, root.GetTagItem(SchedulerDiagnostics.Tags.JobId));
        Assert.Single(root.Links);
        Assert.All(decisions, d => Assert.Equal(root.SpanId, d.ParentSpanId));
        // At ratio 1 every job trace also holds the grain calls of its decisions: the job taking each one.
        lock (_spans)
            Assert.All(decisions, d => Assert.Contains(_spans, s => s.ParentSpanId == d.SpanId && s.DisplayName == "IJobGrain/ApplyAsync"));
        var relocation = decisions[1];
        Assert.Equal(("horinger", "ulanqab", "relocate-to-surplus", "traced"),
            ((string?)relocation.GetTagItem(SchedulerDiagnostics.Tags.FromSite), (string?)relocation.GetTagItem(SchedulerDiagnostics.Tags.ToSite),
             (string?)relocation.GetTagItem(SchedulerDiagnostics.Tags.Reason), (string?)relocation.GetTagItem(SchedulerDiagnostics.Tags.Tenant)));
        Assert.Equal(50.0, relocation.GetTagItem(SchedulerDiagnostics.Tags.RelocationGigabytes));
        // Each candidate site is in an event: a scored one with its surplus, a rejected one in its filter's event; the
        // decision links to the telemetry that moved it.
        var scored = relocation.Events.Where(e => e.Name == SchedulerDiagnostics.CandidateEvent).ToList();
        var rejected = relocation.Events.Where(e => e.Name == SchedulerDiagnostics.RejectedCandidatesEvent).ToList();
        Assert.Equal(["baotou", "ulanqab"], scored.Select(e => (string)e.Tags.First(t => t.Key == SchedulerDiagnostics.Tags.Site).Value!)
            .Concat(rejected.SelectMany(e => ((string)e.Tags.First(t => t.Key == SchedulerDiagnostics.Tags.Sites).Value!).Split(','))).Order());
        Assert.Equal("ulanqab", scored[0].Tags.First(t => t.Key == SchedulerDiagnostics.Tags.Site).Value); // the chosen site first
        Assert.All(scored, e => Assert.Contains(e.Tags, t => t.Key == SchedulerDiagnostics.Tags.CandidateSurplus));
        Assert.NotEmpty(relocation.Links);
        // explain tells the same story, with the same trace id on each decision.
        Assert.Contains(explanation.Events, e => e.Kind == "relocating" && e.TraceId == explanation.TraceId && e.Reason == "relocate-to-surplus");
    }

    [Fact]
    public async Task EachTracedSample_IsATraceOfItsOwn_LinkedToItsStream_WithItsGrainCalls()
    {
        Assert.Equal(3, await _host.PushWindAsync("baotou"));

        Activity[] samples;
        lock (_spans) samples = _spans.Where(s => s.OperationName == SchedulerDiagnostics.TelemetrySampleSpan).ToArray();
        Assert.Equal(3, samples.Length);
        Assert.Equal(3, samples.Select(s => s.TraceId).Distinct().Count());
        var stream = Assert.Single(samples.SelectMany(s => s.Links).Select(l => l.Context.TraceId).Distinct());
        Assert.DoesNotContain(stream, samples.Select(s => s.TraceId));
        lock (_spans)
            Assert.All(samples, sample => Assert.Contains(_spans, s => s.TraceId == sample.TraceId && s.Source.Name == "Microsoft.Orleans.Application"));
    }

    [Fact]
    public async Task Metrics_ReportExportZeroPerSite_TheDecisionLatency_AndEachRegionsTicks()
    {
        var factory = _host.App.Services.GetRequiredService<IMeterFactory>();
        var exports = new Dictionary<string, double>();
        var latencies = new List<double>();
        var tickRegions = new List<object?>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == SchedulerDiagnostics.SourceName && instrument.Meter.Scope == factory) l.EnableMeasurementEvents(instrument);
        };
        listener.SetMeasurementEventCallback<double>((instrument, value, tags, _) =>
        {
            lock (latencies)
            {
                if (instrument.Name == "scheduler.site.export") exports[(string)tags.ToArray().First(t => t.Key == SchedulerDiagnostics.Tags.Site).Value!] = value;
                if (instrument.Name == "scheduler.decision.latency") latencies.Add(value);
                if (instrument.Name == "scheduler.tick.duration") tickRegions.Add(tags.ToArray().SingleOrDefault(t => t.Key == SchedulerDiagnostics.Tags.Region).Value);
            }
        });
        listener.Start();

        await PlaceThenRelocateAsync();
        listener.RecordObservableInstruments();

        lock (latencies)
        {
            Assert.Equal(new Dictionary<string, double> { ["baotou"] = 0, ["horinger"] = 0, ["ulanqab"] = 0 }, exports);
            Assert.Equal(2, latencies.Count); // the placement and the relocation
            Assert.All(latencies, l => Assert.InRange(l, 0, 60_000));
            Assert.NotEmpty(tickRegions);
            Assert.All(tickRegions, r => Assert.Equal("inner-mongolia", r));
        }
        // The same meter on the Prometheus scrape endpoint of the HTTP port.
        using var http = new HttpClient();
        var scrape = await http.GetStringAsync($"http://127.0.0.1:{_host.HttpPort}/metrics");
        Assert.Contains("scheduler_site_export", scrape);
        Assert.Contains("scheduler_decisions", scrape);
    }
}

/// <summary>
/// With sampling ratios of 0 no telemetry sample is picked: a push starts no activity at all, grain calls included.
/// Jobs and decisions are still traced, without the grain calls beneath them.
/// </summary>
[Collection(TracingCollection.Name)]
public sealed class RatioZeroTracingTests : IAsyncLifetime
{
    private readonly List<Activity> _spans = [];
    private SchedulerHost _host = null!;

    public async Task InitializeAsync() => _host = await SchedulerHost.StartFreshAsync(b =>
    {
        b.Configuration["Scheduler:Tracing:SampleRatio"] = "0";
        b.Configuration["Scheduler:Tracing:TelemetrySampleRatio"] = "0";
        b.Services.ConfigureOpenTelemetryTracerProvider(t => t.AddProcessor(new Collector(_spans)));
    });

    public async Task DisposeAsync() => await _host.DisposeAsync();

    private sealed class Collector(List<Activity> spans) : BaseProcessor<Activity>
    {
        public override void OnEnd(Activity data)
        {
            lock (spans) spans.Add(data);
        }
    }

    [Fact]
    public async Task APushOfUnpickedSamples_RecordsNoSpan_AndCreatesNoSampleActivity()
    {
        // Not only unrecorded: a sample not picked must not cost an activity at all, nor must its grain calls (the
        // sampler would create one only to drop it). This listener sees every activity anyone creates from the
        // scheduler's source and the grain calls' source.
        var created = 0;
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name is SchedulerDiagnostics.SourceName or GrainCallTracing.SourceName,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.None,
            ActivityStarted = a =>
            {
                if (a.OperationName == SchedulerDiagnostics.TelemetrySampleSpan || a.Source.Name == GrainCallTracing.SourceName) Interlocked.Increment(ref created);
            },
        };
        ActivitySource.AddActivityListener(listener);
        var accepted = 0L;
        for (var i = 0; i < 5; i++)
        {
            _host.Time.Advance(TimeSpan.FromMinutes(1));
            accepted += await _host.PushWindAsync("baotou");
        }

        Assert.Equal(15, accepted);
        Assert.Equal(0, created);
        lock (_spans)
            Assert.DoesNotContain(_spans, s => s.OperationName == SchedulerDiagnostics.TelemetrySampleSpan
                || s.Source.Name == "Microsoft.Orleans.Application" && s.GetTagItem("rpc.method") is "ReportAsync" or "UpdatePlantOutputAsync");
    }

    [Fact]
    public async Task APlacedJob_KeepsItsRootAndDecision_ButNotTheGrainCallsBeneathThem()
    {
        await _host.TickAsync(TimeSpan.FromMinutes(1));
        await _host.PushWindAsync("horinger");
        var job = await new JobService.JobServiceClient(_host.Channel).CreateJobAsync(new CreateJobRequest
        {
            RequestId = "ratio-0", Job = new JobSpec { Tenant = "traced", Gpus = 64, WorkGpuHours = 500 },
        });
        await _host.TickAsync(TimeSpan.Zero);

        Assert.Equal(JobState.Running, (await new JobService.JobServiceClient(_host.Channel).GetJobAsync(new GetJobRequest { Id = job.Id })).State);
        lock (_spans)
        {
            var root = Assert.Single(_spans, s => s.OperationName == SchedulerDiagnostics.JobSpan && (string?)s.GetTagItem(SchedulerDiagnostics.Tags.JobId) == job.Id);
            var place = Assert.Single(_spans, s => s.OperationName == SchedulerDiagnostics.DecisionSpan && (string?)s.GetTagItem(SchedulerDiagnostics.Tags.JobId) == job.Id);
            Assert.Equal(root.TraceId, place.TraceId);
            Assert.DoesNotContain(_spans, s => s.TraceId == root.TraceId && s.Source.Name == GrainCallTracing.SourceName);
        }
    }
}

/// <summary><c>Scheduler:Tracing:Enabled=false</c>: no span at all, not even a job's (always kept otherwise); metrics go on.</summary>
[Collection(TracingCollection.Name)]
public sealed class TracingDisabledTests : IAsyncLifetime
{
    private SchedulerHost _host = null!;

    public async Task InitializeAsync() => _host = await SchedulerHost.StartFreshAsync(b => b.Configuration["Scheduler:Tracing:Enabled"] = "false");

    public async Task DisposeAsync() => await _host.DisposeAsync();

    [Fact]
    public async Task WithTracingOff_NoTracerListens_NoSampleIsPicked_AndMetricsAreStillServed()
    {
        Assert.Equal(1, await _host.PushWindAsync("baotou") / 3);
        using var http = new HttpClient();
        var metrics = await http.GetStringAsync($"http://127.0.0.1:{_host.HttpPort}/metrics");

        Assert.Null(_host.App.Services.GetService<TracerProvider>());
        Assert.Same(TelemetryTracing.Off, _host.App.Services.GetRequiredService<TelemetryTracing>());
        Assert.Contains("scheduler_telemetry_samples", metrics);
    }
}

/// <summary>The tracing options are validated at start: a ratio outside [0, 1] stops the host with its key named.</summary>
public sealed class TracingOptionsTests
{
    [Theory]
    [InlineData("SampleRatio", "1.5")]
    [InlineData("TelemetrySampleRatio", "-0.1")]
    public async Task ARatioOutsideZeroToOne_RefusesToStart(string key, string value)
    {
        var ex = await Assert.ThrowsAsync<Microsoft.Extensions.Options.OptionsValidationException>(
            () => SchedulerHost.StartFreshAsync(b => b.Configuration[$"Scheduler:Tracing:{key}"] = value));
        Assert.Contains($"Scheduler:Tracing:{key} must be within [0, 1]", ex.Message);
    }

    [Fact]
    public async Task TelemetrySamples_AreTracedAtTheirOwnRatio()
    {
        await using var host = await SchedulerHost.StartFreshAsync(b => b.Configuration["Scheduler:Tracing:TelemetrySampleRatio"] = "0.25");

        Assert.Equal(0.25, host.App.Services.GetRequiredService<TelemetryTracing>().SampleRatio);
    }
}

/// <summary>Which spans the sampler lets start a trace, and what it keeps beneath the spans it always keeps.</summary>
public sealed class SchedulerSamplerTests
{
    private static SamplingDecision Decide(string name, ActivityContext parent = default, double ratio = 1) =>
        new Scheduler.Api.Hosting.SchedulerSampler(ratio).ShouldSample(new SamplingParameters(parent, ActivityTraceId.CreateRandom(), name, ActivityKind.Internal)).Decision;

    [Theory]
    [InlineData(SchedulerDiagnostics.TickSpan, SamplingDecision.RecordAndSample)]
    [InlineData(SchedulerDiagnostics.PromptRoundSpan, SamplingDecision.RecordAndSample)]
    [InlineData(SchedulerDiagnostics.JobSpan, SamplingDecision.RecordAndSample)]
    [InlineData("Microsoft.AspNetCore.Hosting.HttpRequestIn", SamplingDecision.RecordAndSample)]
    // A site's step is part of its tick's trace; a grain call part of its caller's. Neither starts one of its own,
    // which is what a call from an untraced caller (no context carried, GrainCallTracing) would otherwise do.
    [InlineData(SchedulerDiagnostics.SiteStepSpan, SamplingDecision.Drop)]
    [InlineData("ISiteGrain/StepAsync", SamplingDecision.Drop)]
    public void AtRatioOne_OnlyTheSchedulersOwnWorkAndRequestsStartATrace(string name, SamplingDecision expected) =>
        Assert.Equal(expected, Decide(name));

    [Fact]
    public void UnderASampledParent_ASiteStepIsKept()
    {
        var tick = new ActivityContext(ActivityTraceId.CreateRandom(), ActivitySpanId.CreateRandom(), ActivityTraceFlags.Recorded);
        Assert.Equal(SamplingDecision.RecordAndSample, Decide(SchedulerDiagnostics.SiteStepSpan, tick, ratio: 0));
    }
}
