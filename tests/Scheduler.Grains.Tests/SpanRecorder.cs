namespace Scheduler.Grains.Tests;

using System.Diagnostics;

/// <summary>The scheduler's spans that end while it lives and that <c>keep</c> selects (the silos run in this process).</summary>
internal sealed class SpanRecorder : IDisposable
{
    private readonly ActivityListener _listener;
    private readonly List<Activity> _spans = [];

    public SpanRecorder(Func<Activity, bool> keep)
    {
        _listener = new ActivityListener
        {
            ShouldListenTo = s => s.Name == SchedulerDiagnostics.SourceName,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = a =>
            {
                if (keep(a)) lock (_spans) _spans.Add(a);
            },
        };
        ActivitySource.AddActivityListener(_listener);
    }

    public IReadOnlyList<Activity> Taken { get { lock (_spans) return [.. _spans]; } }

    public void Clear()
    {
        lock (_spans) _spans.Clear();
    }

    public void Dispose() => _listener.Dispose();
}
