namespace Scheduler.LoadTest;

using System.Diagnostics.Tracing;

/// <summary>One suspension of the process for a garbage collection: from the runtime suspending threads to their restart.</summary>
/// <param name="Generation">The generation of the collection it served (2 for a background one), or -1 if no collection was seen starting.</param>
/// <param name="PromotedMiB">
/// What the collection that ended within the pause kept of the generations it collected (<c>GCHeapStats</c>'
/// promoted sizes), MiB; NaN when none ended within it. A young collection's pause grows with what it keeps.
/// </param>
public readonly record struct GcPause(DateTime Start, DateTime End, int Generation, bool Background, double PromotedMiB = double.NaN)
{
    public double Milliseconds => (End - Start).TotalMilliseconds;
}

/// <summary>
/// The process's GC suspensions while it lives, from the runtime's own events (<c>GCSuspendEEBegin</c> to
/// <c>GCRestartEEEnd</c>, and <c>GCHeapStats</c> for what a collection kept; keyword GC at Informational: a handful
/// of events per collection) through an in-process
/// listener. The runtime stamps each event when it happens; the listener gets them later, on its own thread.
/// A pause is put down to the collection that starts inside it, or else to the one in progress (the pauses a
/// background collection takes after its start).
/// </summary>
public sealed class GcPauseRecorder : EventListener
{
    private const string RuntimeSource = "Microsoft-Windows-DotNETRuntime";
    private const EventKeywords GcKeyword = (EventKeywords)0x1;
    // Initialised before the base constructor runs, which may already call OnEventSourceCreated.
    private readonly List<GcPause> _pauses = [];
    private readonly List<(long Count, int Generation, bool Background)> _inProgress = [];
    private DateTime? _suspendedAt;
    private (int Generation, bool Background) _servedBy = (-1, false);
    private double _promotedMiB = double.NaN;

    public IReadOnlyList<GcPause> Pauses()
    {
        lock (_pauses) return [.. _pauses];
    }

    protected override void OnEventSourceCreated(EventSource source)
    {
        if (source.Name == RuntimeSource) EnableEvents(source, EventLevel.Informational, GcKeyword);
    }

    protected override void OnEventWritten(EventWrittenEventArgs e)
    {
        switch (e.EventName)
        {
            case "GCStart_V2":
                // Type 1 is a background collection: most of its work runs beside the program, between two short pauses.
                var started = (Count: Number(e, "Count"), Generation: (int)Number(e, "Depth", -1), Background: Number(e, "Type") == 1);
                _inProgress.Add(started);
                if (_suspendedAt is not null) _servedBy = (started.Generation, started.Background);
                break;
            case "GCEnd_V1":
                var count = Number(e, "Count");
                _inProgress.RemoveAll(g => g.Count == count);
                break;
            case "GCHeapStats_V2" when _suspendedAt is not null:
                // Promoted out of each generation the collection collected (the older ones' sizes are 0).
                _promotedMiB = (Number(e, "TotalPromotedSize0") + Number(e, "TotalPromotedSize1") + Number(e, "TotalPromotedSize2")) / 1048576.0;
                break;
            case "GCSuspendEEBegin_V1":
                _suspendedAt = e.TimeStamp;
                _promotedMiB = double.NaN;
                _servedBy = _inProgress.Count > 0 ? (_inProgress[^1].Generation, _inProgress[^1].Background) : (-1, false);
                break;
            case "GCRestartEEEnd_V1" when _suspendedAt is { } start:
                lock (_pauses) _pauses.Add(new GcPause(start, e.TimeStamp, _servedBy.Generation, _servedBy.Background, _promotedMiB));
                _suspendedAt = null;
                break;
        }
    }

    private static long Number(EventWrittenEventArgs e, string name, long missing = 0) =>
        e.PayloadNames?.IndexOf(name) is int i and >= 0 && e.Payload?[i] is { } value
            ? Convert.ToInt64(value, System.Globalization.CultureInfo.InvariantCulture)
            : missing;
}

/// <summary>
/// Which slow decisions waited through a GC pause. A decision waited from the sample that triggered it
/// (<c>issued − latency</c>) to when it was issued; the part of that span the process spent suspended is time the
/// scheduler could not have used.
/// </summary>
/// <param name="ThresholdMs">What counts as slow: the latency target.</param>
/// <param name="Decisions">Every decision of the window.</param>
/// <param name="DecisionsThroughPause">Decisions (of every latency) whose wait overlapped a pause: the base rate.</param>
/// <param name="Slow">Decisions over the threshold.</param>
/// <param name="SlowThroughPause">Of those, the ones whose wait overlapped a pause.</param>
/// <param name="SlowPausedShareP50">Median share of a slow decision's latency spent in pauses (0 when none is slow).</param>
/// <param name="SlowWithoutPauseMaxMs">The slowest decision that overlapped no pause, ms (NaN when none).</param>
public sealed record GcAttribution(
    double ThresholdMs, int Decisions, int DecisionsThroughPause, int Slow, int SlowThroughPause, double SlowPausedShareP50,
    double SlowWithoutPauseMaxMs, int Pauses, double PausedMs, double PauseMaxMs, IReadOnlyList<GcPauseGroup> PausesByGeneration)
{
    /// <param name="decisions">Each decision: when it was issued and its latency in ms.</param>
    /// <param name="pauses">The window's GC pauses, in any order.</param>
    public static GcAttribution Of(IReadOnlyList<(DateTime Issued, double LatencyMs)> decisions, IReadOnlyList<GcPause> pauses, double thresholdMs)
    {
        var sorted = pauses.OrderBy(p => p.Start).ToArray();
        int throughPause = 0, slow = 0, slowThroughPause = 0;
        var slowShares = new List<double>();
        var slowWithoutPauseMax = double.NaN;
        foreach (var (issued, latency) in decisions)
        {
            var paused = PausedWithin(sorted, issued - TimeSpan.FromMilliseconds(latency), issued);
            if (paused > 0) throughPause++;
            if (latency <= thresholdMs) continue;
            slow++;
            slowShares.Add(paused / latency);
            if (paused > 0) slowThroughPause++;
            else if (!(slowWithoutPauseMax >= latency)) slowWithoutPauseMax = latency;
        }
        return new GcAttribution(thresholdMs, decisions.Count, throughPause, slow, slowThroughPause,
            slowShares.Count == 0 ? 0 : Math.Round(JobCreateScenario.Percentile([.. slowShares.Order()], 0.5), 3), slowWithoutPauseMax,
            sorted.Length, Math.Round(sorted.Sum(p => p.Milliseconds), 1), sorted.Length == 0 ? 0 : Math.Round(sorted.Max(p => p.Milliseconds), 1),
            [.. sorted.GroupBy(p => p.Generation < 0 ? "unknown" : p.Background ? "gen2 background" : $"gen{p.Generation}")
                .OrderBy(g => g.Key, StringComparer.Ordinal)
                .Select(g => new GcPauseGroup(g.Key, g.Count(), Math.Round(g.Sum(p => p.Milliseconds), 1), Math.Round(g.Max(p => p.Milliseconds), 1), PromotedP50(g)))]);
    }

    /// <summary>The median of what the pauses' collections kept, MiB (NaN when no pause says).</summary>
    private static double PromotedP50(IEnumerable<GcPause> pauses)
    {
        var promoted = pauses.Select(p => p.PromotedMiB).Where(m => !double.IsNaN(m)).Order().ToArray();
        return promoted.Length == 0 ? double.NaN : Math.Round(JobCreateScenario.Percentile(promoted, 0.5), 2);
    }

    /// <summary>Milliseconds of [<paramref name="from"/>, <paramref name="to"/>] covered by <paramref name="sorted"/> (by start; pauses never overlap).</summary>
    public static double PausedWithin(ReadOnlySpan<GcPause> sorted, DateTime from, DateTime to)
    {
        double ms = 0;
        foreach (var p in sorted)
        {
            if (p.Start >= to) break;
            if (p.End <= from) continue;
            ms += ((p.End < to ? p.End : to) - (p.Start > from ? p.Start : from)).TotalMilliseconds;
        }
        return ms;
    }
}

/// <summary>The pauses of one kind of collection (<c>gen0</c>, <c>gen1</c>, <c>gen2</c>, <c>gen2 background</c>, <c>unknown</c>).</summary>
/// <param name="PromotedMiBP50">The median of what their collections kept, MiB; NaN when none says (<see cref="GcPause.PromotedMiB"/>).</param>
public sealed record GcPauseGroup(string Generation, int Count, double TotalMs, double MaxMs, double PromotedMiBP50 = double.NaN);
