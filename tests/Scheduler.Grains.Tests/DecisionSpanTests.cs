namespace Scheduler.Grains.Tests;

using System.Diagnostics;
using Scheduler.Grains.Hosting;

/// <summary>
/// Every decision is traced, so its span must stay small at fleet scale: the chosen site and the best other scored
/// sites, up to <see cref="SchedulerOptions.TracedCandidates"/>, then one event per filter for the sites it rejected.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class DecisionSpanTests(ClusterFixture fixture)
{
    [Fact]
    public async Task ADecisionSpan_ListsTheChosenAndBestScoredSites_AndGroupsTheRejectedOnesByFilter()
    {
        var fleet = new TestFleet(fixture);
        var traced = new SchedulerOptions().TracedCandidates;
        var roomy = new List<string>();
        for (var i = 0; i < traced + 2; i++) roomy.Add(await fleet.AddSiteAsync($"roomy{i}"));
        var small = new List<string>();
        for (var i = 0; i < 3; i++) small.Add(await fleet.AddSiteAsync($"small{i}", gpus: 10));
        await fleet.TickAsync(TimeSpan.FromMinutes(1));
        for (var i = 0; i < roomy.Count; i++) await fleet.ReportAsync(roomy[i], 1 + i * 0.5); // different surpluses, so different scores
        foreach (var site in small) await fleet.ReportAsync(site, 5);
        var jobId = fleet.Id("j");
        using var spans = new SpanRecorder(a => a.OperationName == SchedulerDiagnostics.DecisionSpan && a.GetTagItem(SchedulerDiagnostics.Tags.JobId) as string == jobId);

        await fleet.SubmitAsync(fleet.Job("j", gpus: 100));
        await fleet.TickAsync(TimeSpan.FromMinutes(1));

        var span = Assert.Single(spans.Taken);
        var scored = span.Events.Where(e => e.Name == SchedulerDiagnostics.CandidateEvent).ToList();
        Assert.Equal(traced, scored.Count); // of traced + 2 sites that passed
        Assert.Equal(span.GetTagItem(SchedulerDiagnostics.Tags.ToSite), Tag(scored[0], SchedulerDiagnostics.Tags.Site));
        var scores = scored.Skip(1).Select(e => (double)Tag(e, SchedulerDiagnostics.Tags.CandidateScore)!).ToList();
        Assert.Equal(scores.OrderDescending(), scores);
        Assert.All(scored, e => Assert.Contains((string)Tag(e, SchedulerDiagnostics.Tags.Site)!, roomy));
        // Each scorer's normalised (0..100) and raw value, in the pipeline's order: "green-headroom=100 (12.5), …".
        Assert.All(scored, e => Assert.Matches(@"^[a-z-]+=\d{1,3}(\.\d)? \(-?[\d.]+(E[-+]\d+)?\)(, [a-z-]+=\d{1,3}(\.\d)? \(-?[\d.]+(E[-+]\d+)?\))+$",
            (string)Tag(e, SchedulerDiagnostics.Tags.CandidateScores)!));

        var rejected = span.Events.Where(e => e.Name == SchedulerDiagnostics.RejectedCandidatesEvent).ToList();
        Assert.NotEmpty(rejected);
        Assert.Equal(small.Count, rejected.Sum(e => (int)Tag(e, SchedulerDiagnostics.Tags.CandidateCount)!));
        Assert.Equal(small.Order(), rejected.SelectMany(e => ((string)Tag(e, SchedulerDiagnostics.Tags.Sites)!).Split(',')).Order());
        Assert.All(rejected, e => Assert.False(string.IsNullOrEmpty((string?)Tag(e, SchedulerDiagnostics.Tags.CandidateRejectedBy))));
    }

    private static object? Tag(ActivityEvent e, string key) => e.Tags.First(t => t.Key == key).Value;
}
