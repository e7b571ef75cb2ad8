namespace Scheduler.Api.Tests;

using System.Diagnostics;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry;
using OpenTelemetry.Trace;
using Scheduler.Api.V1;
using Scheduler.Grains;

/// <summary>Decisions as traces and metrics, read back through an in-memory span collector and a meter listener.</summary>
public sealed class TracingTests : IAsyncLifetime
{
    private readonly List<Activity> _spans = [];
    private SchedulerHost _host = null!;

    // Every trace kept: these tests read the structure of traces, not the sampling.
    public async Task InitializeAsync() => _host = await SchedulerHost.StartFreshAsync(b =>
    {
        b.Configuration["Scheduler:Tracing:SampleRatio"] = "1";
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
        var relocation = decisions[1];
        Assert.Equal(("horinger", "ulanqab", "relocate-to-surplus", "traced"),
            ((string?)relocation.GetTagItem(SchedulerDiagnostics.Tags.FromSite), (string?)relocation.GetTagItem(SchedulerDiagnostics.Tags.ToSite),
             (string?)relocation.GetTagItem(SchedulerDiagnostics.Tags.Reason), (string?)relocation.GetTagItem(SchedulerDiagnostics.Tags.Tenant)));
        Assert.Equal(50.0, relocation.GetTagItem(SchedulerDiagnostics.Tags.RelocationGigabytes));
        // Each candidate site is an event with its surplus; the decision links to the telemetry that moved it.
        var candidates = relocation.Events.Where(e => e.Name == "scheduler.candidate").ToList();
        Assert.Equal(["baotou", "ulanqab"], candidates.Select(e => (string?)e.Tags.First(t => t.Key == SchedulerDiagnostics.Tags.Site).Value).Order());
        Assert.All(candidates, e => Assert.Contains(e.Tags, t => t.Key == SchedulerDiagnostics.Tags.CandidateSurplus));
        Assert.NotEmpty(relocation.Links);
        // explain tells the same story, with the same trace id on each decision.
        Assert.Contains(explanation.Events, e => e.Kind == "relocating" && e.TraceId == explanation.TraceId && e.Reason == "relocate-to-surplus");
    }

    [Fact]
    public async Task Metrics_ReportExportZeroPerSite_AndTheDecisionLatency()
    {
        var factory = _host.App.Services.GetRequiredService<IMeterFactory>();
        var exports = new Dictionary<string, double>();
        var latencies = new List<double>();
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
        }
        // The same meter on the Prometheus scrape endpoint of the HTTP port.
        using var http = new HttpClient();
        var scrape = await http.GetStringAsync($"http://127.0.0.1:{_host.HttpPort}/metrics");
        Assert.Contains("scheduler_site_export", scrape);
        Assert.Contains("scheduler_decisions", scrape);
    }
}
