namespace Scheduler.LoadTest.Tests;

using CsCheck;
using Scheduler.LoadTest;

public class GcAttributionTests
{
    private static readonly DateTime T0 = new(2026, 11, 28, 0, 0, 0, DateTimeKind.Utc);

    private static DateTime Ms(double ms) => T0.AddTicks((long)(ms * TimeSpan.TicksPerMillisecond));

    [Fact]
    public void ASlowDecision_ThatWaitedThroughAPause_IsCounted_WithThePausedShareOfItsLatency()
    {
        GcPause[] pauses = [new(Ms(85), Ms(95), 1, false), new(Ms(500), Ms(530), 2, true)];
        (DateTime, double)[] decisions =
        [
            (Ms(100), 20),  // waited 80..100: 10 ms of it in the first pause
            (Ms(300), 40),  // waited 260..300: no pause, slow
            (Ms(600), 5),   // fast, no pause
            (Ms(520), 3),   // fast, inside the second pause
            (Ms(530), 25),  // waited 505..530: all of it in the second pause
        ];

        var g = GcAttribution.Of(decisions, pauses, thresholdMs: 10);

        Assert.Equal((5, 3, 3, 2), (g.Decisions, g.DecisionsThroughPause, g.Slow, g.SlowThroughPause));
        Assert.Equal(40, g.SlowWithoutPauseMaxMs);
        // The slow decisions' shares are 0.5, 0 and 1.
        Assert.Equal(0.5, g.SlowPausedShareP50, 3);
        Assert.Equal((2, 40.0, 30.0), (g.Pauses, g.PausedMs, g.PauseMaxMs));
        Assert.Equal([new GcPauseGroup("gen1", 1, 10, 10), new GcPauseGroup("gen2 background", 1, 30, 30)], g.PausesByGeneration);
    }

    [Fact]
    public void NoSlowDecision_HasNoShare_AndNoSlowestWithoutAPause()
    {
        var g = GcAttribution.Of([(Ms(10), 2)], [new(Ms(0), Ms(9), -1, false)], thresholdMs: 10);

        Assert.Equal((1, 1, 0, 0, 0.0), (g.Decisions, g.DecisionsThroughPause, g.Slow, g.SlowThroughPause, g.SlowPausedShareP50));
        Assert.True(double.IsNaN(g.SlowWithoutPauseMaxMs));
        Assert.Equal([new GcPauseGroup("unknown", 1, 9, 9)], g.PausesByGeneration);
    }

    [Fact]
    public void PausedWithin_IsTheLengthOfTheSpanThePausesCover_ForRandomPausesAndSpans()
    {
        // Whole milliseconds on a 200 ms line: the covered length can be counted cell by cell.
        var gen = Gen.Select(Gen.Int[0, 200].Array[0, 12], Gen.Int[0, 200], Gen.Int[0, 200]);
        gen.Sample((cuts, a, b) =>
        {
            // Sorted distinct cuts taken two by two are pauses that never overlap, as the runtime's never do.
            var points = cuts.Distinct().Order().ToArray();
            var pauses = Enumerable.Range(0, points.Length / 2).Select(i => new GcPause(Ms(points[2 * i]), Ms(points[2 * i + 1]), 0, false)).ToArray();
            var (from, to) = (Math.Min(a, b), Math.Max(a, b));

            var covered = Enumerable.Range(from, to - from).Count(ms => pauses.Any(p => p.Start <= Ms(ms) && Ms(ms + 1) <= p.End));

            Assert.Equal(covered, GcAttribution.PausedWithin(pauses, Ms(from), Ms(to)), 6);
        });
    }
}

[Collection(ProcessWide.Collection)]
public class GcPauseRecorderTests
{
    [Fact]
    public async Task AForcedCollection_IsRecorded_BetweenTheClockReadingsAroundIt()
    {
        // The attribution compares the runtime's event times with the wall clock: they must agree.
        using var recorder = new GcPauseRecorder();
        await Task.Delay(500); // the listener's session starts on its own thread
        var before = DateTime.UtcNow;
        GC.Collect(1, GCCollectionMode.Forced, blocking: true);
        var after = DateTime.UtcNow;

        // Other tests may collect meanwhile, and the runtime may collect an older generation than asked: what matters is
        // that the collection's pause lies within the readings (to a millisecond: the two clocks are read apart). With a
        // background collection under way, the one pause within the readings was recorded as that background gen2's
        // (a full test run, session 25): any pause of gen1 or older counts.
        var slack = TimeSpan.FromMilliseconds(1);
        bool Within(GcPause p) => p.Generation >= 1 && before - slack <= p.Start && p.Start <= p.End && p.End <= after + slack;
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (!recorder.Pauses().Any(Within) && waited.Elapsed < TimeSpan.FromSeconds(10)) await Task.Delay(100);

        Assert.True(recorder.Pauses().Any(Within),
            $"no gen1+ pause within {before:HH:mm:ss.ffff}–{after:HH:mm:ss.ffff} (± {slack.TotalMilliseconds} ms); recorded: " +
            string.Join("; ", recorder.Pauses().Select(p => $"gen{p.Generation}{(p.Background ? " background" : "")} {p.Start:HH:mm:ss.ffff}–{p.End:HH:mm:ss.ffff}")));
    }

    [Fact]
    public async Task WhatTheCollectionsKeep_IsRecorded_AtLeastTheObjectsStillReferenced()
    {
        using var recorder = new GcPauseRecorder();
        await Task.Delay(500);
        var before = DateTime.UtcNow;
        // 16 MiB of small objects, still referenced: each leaves gen0 once, in this collection or one the allocation set off.
        var kept = new List<byte[]>();
        for (var i = 0; i < 16 * 1024; i++) kept.Add(new byte[1000]);
        GC.Collect(1, GCCollectionMode.Forced, blocking: true);
        var after = DateTime.UtcNow;

        var slack = TimeSpan.FromMilliseconds(1);
        double Promoted() => recorder.Pauses().Where(p => before - slack <= p.Start && p.End <= after + slack && !double.IsNaN(p.PromotedMiB)).Sum(p => p.PromotedMiB);
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (Promoted() < 15 && waited.Elapsed < TimeSpan.FromSeconds(10)) await Task.Delay(100);

        Assert.InRange(Promoted(), 15, double.MaxValue); // other tests' objects only add to it
        GC.KeepAlive(kept);
    }
}

/// <summary>Tests that read or load the whole process (its collections, its CPU) run one at a time.</summary>
[CollectionDefinition(Collection)]
public sealed class ProcessWide
{
    public const string Collection = "process-wide";
}
