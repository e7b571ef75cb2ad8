namespace Scheduler.Grains.Tests;

using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Scheduler.Core.Lifecycle;
using Scheduler.Grains.Diagnostics;

public class SchedulerMetricsTests
{
    [Fact]
    public void DecisionLatency_HasBucketEdges_EitherSideOfItsTarget()
    {
        using var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var factory = services.GetRequiredService<IMeterFactory>();
        _ = new SchedulerMetrics(factory);
        var histograms = new Dictionary<string, Histogram<double>>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, _) =>
        {
            if (instrument.Meter.Scope == factory && instrument is Histogram<double> h) histograms[instrument.Name] = h;
        };
        listener.Start();

        // With the exporters' default buckets (0, 5, 10, 25 ms) a Prometheus reader could not tell 6 ms from 9.
        foreach (var name in new[] { "scheduler.decision.latency", "scheduler.tick.duration" })
        {
            var edges = histograms[name].Advice?.HistogramBucketBoundaries ?? [];
            Assert.Contains(7.5, edges);
            Assert.Contains(10.0, edges);
            Assert.Contains(15.0, edges);
        }
    }

    [Fact]
    public void TheJobsGauge_CountsEachRegionsJobsByState_AsLastCounted()
    {
        using var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var factory = services.GetRequiredService<IMeterFactory>();
        var metrics = new SchedulerMetrics(factory);
        metrics.JobsCounted("north", [JobStatus.Running, JobStatus.Queued, JobStatus.Running, JobStatus.Completed, JobStatus.Running]);
        metrics.JobsCounted("south", [JobStatus.Paused]);
        metrics.JobsCounted("south", [JobStatus.Queued, JobStatus.Queued]); // the latest count replaces the region's last

        var seen = new Dictionary<(object?, object?), int>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Scope == factory && instrument.Name == "scheduler.jobs") l.EnableMeasurementEvents(instrument);
        };
        listener.SetMeasurementEventCallback<int>((_, value, tags, _) =>
        {
            var t = tags.ToArray();
            seen.Add((t.Single(x => x.Key == SchedulerDiagnostics.Tags.Region).Value, t.Single(x => x.Key == "scheduler.job.state").Value), value);
        });
        listener.Start();
        listener.RecordObservableInstruments();

        Assert.Equal(new Dictionary<(object?, object?), int>
        {
            [("north", "Running")] = 3,
            [("north", "Queued")] = 1,
            [("north", "Completed")] = 1,
            [("south", "Queued")] = 2,
        }, seen);
    }
}
