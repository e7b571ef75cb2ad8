namespace Scheduler.Grains.Tests;

using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Scheduler.Core.Lifecycle;
using Scheduler.Grains.Diagnostics;

public class SchedulerMetricsTests
{
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
