namespace Scheduler.Grains.Diagnostics;

using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Runtime.InteropServices;
using Scheduler.Core.Lifecycle;
using Scheduler.Core.Policy;

/// <summary>
/// The scheduler's instruments, on one meter named <see cref="SchedulerDiagnostics.SourceName"/>. Grains report to it;
/// gauges read the latest site statuses and job counts it holds. Names and units are listed in docs/operations.md.
/// </summary>
public sealed class SchedulerMetrics
{
    private readonly ConcurrentDictionary<string, SiteStatus> _sites = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Dictionary<JobStatus, int>> _jobsByRegion = new(StringComparer.Ordinal);
    private readonly Counter<long> _decisions;
    private readonly Counter<long> _samples;
    private readonly Histogram<double> _ingestLag;
    private readonly Histogram<double> _decisionLatency;
    private readonly Histogram<double> _tickDuration;

    /// <summary>
    /// Buckets for decision latency and tick time, with edges either side of the 10 ms decision target: the exporters'
    /// defaults (0, 5, 10, 25 … ms) cannot tell 6 ms from 9.
    /// </summary>
    private static readonly InstrumentAdvice<double> LatencyBuckets = new() { HistogramBucketBoundaries = [1, 2.5, 5, 7.5, 10, 15, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000] };

    /// <param name="telemetryHold">This silo's hold on telemetry, whose holds are counted.</param>
    public SchedulerMetrics(IMeterFactory meters, TelemetryHold? telemetryHold = null)
    {
        var meter = meters.Create(SchedulerDiagnostics.SourceName);
        _decisions = meter.CreateCounter<long>("scheduler.decisions", "{decision}", "Dispatch decisions applied, by kind and reason");
        _samples = meter.CreateCounter<long>("scheduler.telemetry.samples", "{sample}", "Generation samples, by result (accepted, rejected)");
        _ingestLag = meter.CreateHistogram<double>("scheduler.telemetry.ingest_lag", "s", "Scheduler time at receipt minus the sample's event time");
        _decisionLatency = meter.CreateHistogram("scheduler.decision.latency", "ms", "Real time from what triggered the decision to the decision applied: the new job, the supply-raising or -lowering sample (prompt dispatch), or the newest sample of the sites involved (tick); by trigger and kind",
            advice: LatencyBuckets);
        _tickDuration = meter.CreateHistogram("scheduler.tick.duration", "ms", "Real time one region's tick took: steps, progress, reconcile, the policy round and its decisions; by region",
            advice: LatencyBuckets);
        Gauge(meter, "scheduler.site.green_supply", "MW", s => s.GreenSupplyMegawatts);
        Gauge(meter, "scheduler.site.load", "MW", s => s.LoadMegawatts);
        Gauge(meter, "scheduler.site.battery", "MW", s => s.BatteryMegawatts);
        Gauge(meter, "scheduler.site.state_of_charge", "MWh", s => s.StateOfChargeMegawattHours);
        Gauge(meter, "scheduler.site.grid_import", "MW", s => s.GridImportMegawatts);
        Gauge(meter, "scheduler.site.curtailment", "MW", s => s.CurtailmentMegawatts);
        Gauge(meter, "scheduler.site.export", "MW", s => s.ExportMegawatts);
        meter.CreateObservableGauge("scheduler.jobs", () => _jobsByRegion.SelectMany(r => r.Value.Select(kv =>
            new Measurement<int>(kv.Value, new KeyValuePair<string, object?>(SchedulerDiagnostics.Tags.Region, r.Key), new KeyValuePair<string, object?>("scheduler.job.state", kv.Key.ToString())))),
            "{job}", "Jobs by region and state");
        if (telemetryHold is not null)
            meter.CreateObservableCounter("scheduler.telemetry.holds", () => telemetryHold.Holds.Select(kv =>
                new Measurement<long>(kv.Value, new KeyValuePair<string, object?>(SchedulerDiagnostics.Tags.Region, kv.Key))), "{round}",
                "Rounds that a sample triggered which held this silo's telemetry ingest while they decided and applied, by region");
    }

    public void SiteStepped(SiteStatus status) => _sites[status.Spec.Id] = status;

    public void JobsCounted(string region, IEnumerable<JobStatus> statuses)
    {
        // One pass into a dictionary of a few entries: grouping the statuses kept each group's elements, and at 100,000
        // jobs a tick made arrays of up to 512 KB on the large object heap.
        var counts = new Dictionary<JobStatus, int>();
        foreach (var status in statuses) CollectionsMarshal.GetValueRefOrAddDefault(counts, status, out _)++;
        _jobsByRegion[region] = counts;
    }

    /// <param name="trigger">What started the round: <c>tick</c>, or for prompt dispatch <c>job</c> or <c>supply</c>.</param>
    public void DecisionApplied(Decision decision, double latencyMilliseconds, string trigger)
    {
        _decisions.Add(1, new KeyValuePair<string, object?>(SchedulerDiagnostics.Tags.DecisionKind, decision.Kind.ToString()),
            new KeyValuePair<string, object?>(SchedulerDiagnostics.Tags.Reason, decision.Reason));
        if (double.IsFinite(latencyMilliseconds))
            _decisionLatency.Record(latencyMilliseconds, new KeyValuePair<string, object?>(SchedulerDiagnostics.Tags.Trigger, trigger),
                new KeyValuePair<string, object?>(SchedulerDiagnostics.Tags.DecisionKind, decision.Kind.ToString()));
    }

    public void TickCompleted(string region, double milliseconds) =>
        _tickDuration.Record(milliseconds, new KeyValuePair<string, object?>(SchedulerDiagnostics.Tags.Region, region));

    public void SampleReceived(bool accepted, double lagSeconds)
    {
        _samples.Add(1, new KeyValuePair<string, object?>("scheduler.telemetry.result", accepted ? "accepted" : "rejected"));
        if (accepted) _ingestLag.Record(lagSeconds);
    }

    private void Gauge(Meter meter, string name, string unit, Func<SiteStatus, double> value) =>
        meter.CreateObservableGauge(name, () => _sites.Values.Select(s =>
            new Measurement<double>(value(s), new KeyValuePair<string, object?>(SchedulerDiagnostics.Tags.Site, s.Spec.Id))), unit);
}
