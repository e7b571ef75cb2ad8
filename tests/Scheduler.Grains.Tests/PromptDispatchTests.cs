namespace Scheduler.Grains.Tests;

using System.Diagnostics;
using System.Diagnostics.Metrics;
using Scheduler.Core.Lifecycle;
using Scheduler.Core.Model;
using Scheduler.Core.Policy;

/// <summary>
/// Between ticks, a new job, a site's supply rise or GPUs freed by a cancel get a round of starts at once, and a site's
/// fall into deficit a round over its jobs (prompt dispatch).
/// </summary>
[Collection(PromptDispatchClusterCollection.Name)]
public class PromptDispatchTests(PromptDispatchClusterFixture fixture)
{
    private static readonly TimeSpan Step = TimeSpan.FromMinutes(15);

    [Fact]
    public async Task ANewJob_IsPlacedWithoutATick_AndTheNextTickLeavesItWhereItIs()
    {
        var fleet = new TestFleet(fixture);
        var dark = await fleet.AddSiteAsync("dark");
        var windy = await fleet.AddSiteAsync("windy");
        await fleet.ReportAsync(dark, 0);
        await fleet.ReportAsync(windy, 5);
        await fleet.TickAsync(Step); // the dispatcher's first picture of the region
        using var latencies = new DecisionLatencies();
        var holds = fixture.TelemetryHoldsBy(fleet.Region);

        await fleet.SubmitAsync(fleet.Job("j"));

        var job = await TestFleet.UntilAsync(() => fleet.JobAsync("j"), j => j.State.Status == JobStatus.Running);
        Assert.Equal(windy, job.State.SiteId);
        // A new job's round is no sample's: it does not hold the telemetry.
        Assert.Equal(holds, fixture.TelemetryHoldsBy(fleet.Region));
        Assert.Equal(["created", "placed"], job.History.Select(e => e.Kind));
        // The record is written before the site is told, and the dispatcher, its apply returned (the site told),
        // records the decision's latency: only then does the site hold the job for certain.
        var latency = Assert.Single(await TestFleet.UntilAsync(() => Task.FromResult(latencies.Of("job")), l => l.Count > 0));
        Assert.True(latency >= 0 && double.IsFinite(latency), $"latency {latency} ms");
        Assert.Equal([windy], await fleet.SitesHoldingAsync(job.State.Id));

        // The tick finds the job where the prompt round put it: no second decision, one site holds it.
        var tick = await fleet.TickAsync(Step);
        Assert.DoesNotContain(tick.Decisions, d => d.JobId == job.State.Id);
        Assert.Equal([windy], await fleet.SitesHoldingAsync(job.State.Id));
        Assert.Equal(["created", "placed"], (await fleet.JobAsync("j")).History.Select(e => e.Kind));
    }

    [Fact]
    public async Task AWaitingJob_StartsWhenASamplesRaisesASitesSupply_WithoutATick()
    {
        var fleet = new TestFleet(fixture);
        var site = await fleet.AddSiteAsync("calm");
        await fleet.ReportAsync(site, 0);
        await fleet.TickAsync(Step);
        await fleet.SubmitAsync(fleet.Job("waits", interruptible: true, deadlineIn: TimeSpan.FromHours(48)));
        var waiting = await TestFleet.UntilAsync(() => fleet.JobAsync("waits"), j => j.History.Any(e => e.Kind == "deferred"));
        Assert.Equal(JobStatus.Queued, waiting.State.Status);
        // The next tick, with a job waiting, asks the sites to tell of rises; still calm, so the job still waits.
        await fleet.TickAsync(TimeSpan.FromMinutes(1));
        Assert.Equal(JobStatus.Queued, (await fleet.JobAsync("waits")).State.Status);

        // The wind rises: the plant's sample reaches the site, the site tells the dispatcher, the job starts.
        var holds = fixture.TelemetryHoldsBy(fleet.Region);
        fixture.Time.Advance(TimeSpan.FromMinutes(1));
        await fleet.ReportAsync(site, 5);

        var job = await TestFleet.UntilAsync(() => fleet.JobAsync("waits"), j => j.State.Status == JobStatus.Running);
        Assert.Equal(site, job.State.SiteId);
        var placed = Assert.Single(job.History, e => e.Kind == "placed");
        Assert.Equal(DecisionReasons.GreenSurplus, placed.Reason);
        // The round the rise triggered held its silo's telemetry while it ran.
        Assert.Equal(holds + 1, fixture.TelemetryHoldsBy(fleet.Region));
    }

    [Fact]
    public async Task ARunningJob_LeavesASiteWhoseSupplyFallsIntoDeficit_WithoutATick()
    {
        var fleet = new TestFleet(fixture);
        var clouding = await fleet.AddSiteAsync("clouding");
        var sunny = await fleet.AddSiteAsync("sunny");
        await fleet.ReportAsync(clouding, 8);
        await fleet.ReportAsync(sunny, 5);
        await fleet.TickAsync(Step);
        await fleet.SubmitAsync(fleet.Job("j", relocatable: true));
        var placed = await TestFleet.UntilAsync(() => fleet.JobAsync("j"), j => j.State.Status == JobStatus.Running);
        Assert.Equal(clouding, placed.State.SiteId);
        // Past the job's cooldown, fresh samples, and a tick: the site's load now includes the job. The server read
        // them a second ago, before the fall below: a round takes a site's told supply only if it is newer.
        fixture.Time.Advance(new PolicyOptions().Cooldown);
        await fleet.ReportAsync(clouding, 8, receivedAt: DateTimeOffset.UtcNow.AddSeconds(-1));
        await fleet.ReportAsync(sunny, 5, receivedAt: DateTimeOffset.UtcNow.AddSeconds(-1));
        await fleet.TickAsync(TimeSpan.FromSeconds(1));
        using var rounds = new PromptRounds(fleet.Region);
        using var latencies = new DecisionLatencies();
        var holds = fixture.TelemetryHoldsBy(fleet.Region);

        // Still in surplus after a notable fall: nothing to do.
        fixture.Time.Advance(TimeSpan.FromSeconds(1));
        await fleet.ReportAsync(clouding, 4);
        // A cloud: the supply falls below the job's 0.1 MW. The site tells the dispatcher, which moves the job. The
        // server read the sample half a second before its plant took it: the decision's latency counts from the read.
        fixture.Time.Advance(TimeSpan.FromSeconds(1));
        await fleet.ReportAsync(clouding, 0, receivedAt: DateTimeOffset.UtcNow.AddMilliseconds(-500));

        var moved = await TestFleet.UntilAsync(() => fleet.JobAsync("j"), j => j.History.Any(e => e.Kind == "relocating"));
        Assert.Equal(sunny, moved.State.SiteId);
        Assert.Equal(DecisionReasons.RelocateToSurplus, moved.History.Single(e => e.Kind == "relocating").Reason);
        Assert.Equal([("deficit", 1L)], await rounds.UntilAsync(1));
        var latency = Assert.Single(await TestFleet.UntilAsync(() => Task.FromResult(latencies.Of("deficit")), l => l.Count > 0));
        Assert.True(latency >= 500 && double.IsFinite(latency), $"latency {latency} ms");
        // The deficit round held its silo's telemetry while it ran.
        Assert.Equal(holds + 1, fixture.TelemetryHoldsBy(fleet.Region));
    }

    [Fact]
    public async Task BeforeTheFirstTick_ANewJobWaitsForIt()
    {
        var fleet = new TestFleet(fixture);
        var windy = await fleet.AddSiteAsync("windy");
        await fleet.ReportAsync(windy, 5);

        await fleet.SubmitAsync(fleet.Job("j"));
        await Task.Delay(200);
        Assert.Equal(JobStatus.Queued, (await fleet.JobAsync("j")).State.Status);

        var tick = await fleet.TickAsync(Step);
        Assert.Contains(tick.Decisions, d => d.JobId == fleet.Id("j") && d.Kind == DecisionKind.Place);
    }

    [Fact]
    public async Task APromptRound_DecidesOnlyOnNewJobs_TillGpusAreFreedOrSupplyRises()
    {
        var fleet = new TestFleet(fixture);
        var site = await fleet.AddSiteAsync("small", gpus: 200);
        await fleet.ReportAsync(site, 5);
        await fleet.TickAsync(Step);
        using var rounds = new PromptRounds(fleet.Region);
        var big = (await fleet.SubmitAsync(fleet.Job("big", gpus: 200))).State.Id;
        await TestFleet.UntilAsync(() => fleet.JobAsync("big"), j => j.State.Status == JobStatus.Running);
        foreach (var name in new[] { "a", "b" }) await fleet.SubmitAsync(Waits(name)); // no GPUs left for them
        await UntilDeferredAsync("a", "b");
        await fleet.TickAsync(TimeSpan.FromMinutes(1)); // a tick decides on every job

        // Nothing freed, nothing rose: the round after a new job decides on it alone.
        rounds.Clear();
        await fleet.SubmitAsync(Waits("c"));
        await UntilDeferredAsync("c");
        Assert.Equal([("job", 1L)], await rounds.UntilAsync(1));

        // A cancel frees GPUs: a round at once, on every waiting job, starts two of them.
        rounds.Clear();
        var cancelled = await fleet.Client.GetGrain<IJobGrain>(big).CancelAsync(fleet.Now, "test");
        await fleet.Client.GetGrain<IDispatcherGrain>(fleet.Region).TrackAsync(cancelled);
        Assert.Equal([("freed", 3L)], await rounds.UntilAsync(1));
        var jobs = await Task.WhenAll(new[] { "a", "b" }.Select(n => TestFleet.UntilAsync(() => fleet.JobAsync(n), j => j.State.Status == JobStatus.Running)));
        Assert.All(jobs, j => Assert.Equal(JobStatus.Running, j.State.Status));

        // Nothing freed or risen since that round: the next new job is decided on alone, until a site's supply rises.
        rounds.Clear();
        await fleet.SubmitAsync(Waits("d"));
        await UntilDeferredAsync("d");
        Assert.Equal([("job", 1L)], await rounds.UntilAsync(1));
        rounds.Clear();
        fixture.Time.Advance(TimeSpan.FromMinutes(1));
        await fleet.ReportAsync(site, 7);
        Assert.Equal([("supply", 2L)], await rounds.UntilAsync(1)); // c and d

        JobSpec Waits(string name) => fleet.Job(name, interruptible: true, deadlineIn: TimeSpan.FromHours(48));
        Task UntilDeferredAsync(params string[] names) => Task.WhenAll(names.Select(n =>
            TestFleet.UntilAsync(() => fleet.JobAsync(n), j => j.History.Any(e => e.Kind == "deferred"))));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    public async Task PromptRoundsAndTicksRacingForTheSameGpus_NeverOverCommitASite_NorPlaceAJobTwice(int run)
    {
        var fleet = new TestFleet(fixture);
        var a = await fleet.AddSiteAsync("a");
        var b = await fleet.AddSiteAsync("b");
        await fleet.ReportAsync(a, 8);
        await fleet.ReportAsync(b, 8);
        await fleet.TickAsync(Step);

        // 30 jobs of 100 GPUs for 2,000 GPUs, created in waves while the region ticks: prompt rounds and ticks decide at once.
        var creates = new List<Task<JobRecord>>();
        for (var wave = 0; wave < 5; wave++)
        {
            creates.AddRange(Enumerable.Range(wave * 6, 6).Select(i => fleet.SubmitAsync(fleet.Job($"j{i}"))));
            await fleet.TickAsync(TimeSpan.FromSeconds(run));
        }
        await Task.WhenAll(creates);
        await fleet.TickAsync(TimeSpan.FromMinutes(1));

        var jobs = await Task.WhenAll(Enumerable.Range(0, 30).Select(i => fleet.JobAsync($"j{i}")));
        var sites = await fleet.SitesAsync();
        Assert.All(sites, s => Assert.True(s.Jobs.Sum(j => j.Job.Spec.Gpus) <= s.Spec.GpuCount, $"{s.Spec.Id} over-committed"));
        Assert.All(jobs, j => Assert.True(j.History.Count(e => e.Kind == "placed") <= 1, $"{j.State.Id} placed twice"));
        Assert.Equal(20, jobs.Count(j => j.State.Status == JobStatus.Running));
        // Every record agrees with the sites: a running job is held by its site, and by no other.
        foreach (var job in jobs.Where(j => j.State.Status == JobStatus.Running))
            Assert.Equal([job.State.SiteId!], await fleet.SitesHoldingAsync(job.State.Id));
    }

    /// <summary>The prompt rounds of one region that end while it lives: each one's trigger and how many jobs it decided on.</summary>
    private sealed class PromptRounds(string region) : IDisposable
    {
        private readonly SpanRecorder _spans = new(a =>
            a.OperationName == SchedulerDiagnostics.PromptRoundSpan && a.GetTagItem(SchedulerDiagnostics.Tags.Region) as string == region);

        public void Clear() => _spans.Clear();

        public async Task<IReadOnlyList<(string Trigger, long Jobs)>> UntilAsync(int count) =>
            await TestFleet.UntilAsync(() => Task.FromResult(Taken()), r => r.Count >= count);

        private IReadOnlyList<(string Trigger, long Jobs)> Taken() =>
            _spans.Taken.Select(a => ((string)a.GetTagItem(SchedulerDiagnostics.Tags.Trigger)!, Convert.ToInt64(a.GetTagItem(SchedulerDiagnostics.Tags.RoundJobs)))).ToList();

        public void Dispose() => _spans.Dispose();
    }

    /// <summary>Every decision latency the silos record while it lives (the silos run in this process).</summary>
    private sealed class DecisionLatencies : IDisposable
    {
        private readonly MeterListener _listener = new();
        private readonly List<(string? Trigger, double Milliseconds)> _values = [];

        public DecisionLatencies()
        {
            _listener.InstrumentPublished = (i, l) =>
            {
                if (i.Meter.Name == SchedulerDiagnostics.SourceName && i.Name == "scheduler.decision.latency") l.EnableMeasurementEvents(i);
            };
            _listener.SetMeasurementEventCallback<double>((_, v, tags, _) =>
            {
                string? trigger = null;
                foreach (var tag in tags) if (tag.Key == SchedulerDiagnostics.Tags.Trigger) trigger = tag.Value as string;
                lock (_values) _values.Add((trigger, v));
            });
            _listener.Start();
        }

        /// <summary>The latencies of decisions whose round <paramref name="trigger"/> started (the other tests' ticks record theirs too).</summary>
        public IReadOnlyList<double> Of(string trigger)
        {
            lock (_values) return [.. _values.Where(v => v.Trigger == trigger).Select(v => v.Milliseconds)];
        }

        public void Dispose() => _listener.Dispose();
    }
}
