namespace Scheduler.Core.Tests;

using CsCheck;
using Scheduler.Core.Lifecycle;
using Scheduler.Core.Policy;
using Scheduler.Core.Policy.Scorers;
using static Build;

/// <summary>The part of a decision's explanation its trace shows.</summary>
public class CandidateSummaryTests
{
    /// <summary>What the summary must equal: the plain reading of every candidate's record.</summary>
    private static string[] Expected(IReadOnlyList<CandidateEvaluation> all, string chosen, int limit) =>
        [.. all.Where(c => c.Passed).OrderByDescending(c => c.SiteId == chosen).ThenByDescending(c => c.TotalScore).ThenBy(c => c.SiteId, StringComparer.Ordinal)
                .Take(limit).Select(c => $"scored {c.SiteId} {c.TotalScore} {c.Scores.Count}"),
         .. all.Where(c => !c.Passed).GroupBy(c => c.RejectedBy!, StringComparer.Ordinal)
                .Select(g => $"{g.Key} rejected {g.Count()}: {string.Join(",", g.Take(limit).Select(c => c.SiteId))}, first {g.First().SiteId}: {g.First().Rejection}")];

    private static string[] Shown(CandidateSummary summary) =>
        [.. summary.Best.Select(c => $"scored {c.SiteId} {c.TotalScore} {c.Scores.Count}"),
         .. summary.Rejected.Select(r => $"{r.Filter} rejected {r.Count}: {string.Join(",", r.SiteIds)}, first {r.First.SiteId}: {r.First.Rejection}")];

    [Fact]
    public void TheSummaryOfADecision_IsThePlainReadingOfAllItsCandidates_CutToTheLimit_ForRandomFleets()
    {
        var summarised = 0;
        Gen.Select(Gen.Int, Gen.Int[0, 4]).Sample((seed, limit) =>
        {
            var fleet = DispatcherPropertyTests.RandomFleet(seed);
            foreach (var d in new Dispatcher(new PolicyOptions()).Decide(fleet).Decisions.Where(d => d.Candidates.Count > 0))
            {
                // Summarised from the compact explanation first, so that nothing is built before the summary reads it.
                var summary = CandidateSummary.Of(d.Candidates, d.ToSiteId, limit);
                Assert.Equal(Expected(d.Candidates.ToList(), d.ToSiteId, limit), Shown(summary));
                Interlocked.Increment(ref summarised);
            }
        }, iter: 500);
        Assert.True(summarised > 100, $"only {summarised} decisions with candidates");
    }

    [Fact]
    public void TheSummary_BuildsOnlyTheRejectionsItShows()
    {
        var filter = new CountingFilter(passing: "s7");
        var pipeline = new SitePipeline("test", [filter], [(new GreenHeadroomScorer(), 1)]);
        var sites = Enumerable.Range(0, 20).Select(i => new SiteView(Snapshot(Site($"s{i}"), greenMw: i), i)).ToArray();
        pipeline.Evaluate(Queued(Job("j")), null, sites, null, T0, (_, _, _) => null, 0, 1);

        var summary = CandidateSummary.Of(pipeline.Explain(), "s7", limit: 3);

        Assert.Equal("s7", Assert.Single(summary.Best).SiteId);
        var rejected = Assert.Single(summary.Rejected);
        Assert.Equal(19, rejected.Count);
        Assert.Equal(["s0", "s1", "s2"], rejected.SiteIds);
        Assert.Equal(("s0", "not s7"), (rejected.First.SiteId, rejected.First.Rejection));
        Assert.Equal(1, filter.Reasons); // 19 sites rejected, one reason formatted
    }

    [Fact]
    public void TheChosenSiteComesFirst_ThenTheBestByScore_TiesBySiteId()
    {
        CandidateEvaluation Scored(string site, double total) => new(site, 1, null, null, [], total);
        CandidateEvaluation[] all = [Scored("b", 50), Scored("chosen", 10), Scored("a", 50), Scored("c", 90)];

        var summary = CandidateSummary.Of(all, "chosen", limit: 3);

        Assert.Equal(["chosen", "c", "a"], summary.Best.Select(c => c.SiteId));
        Assert.Empty(summary.Rejected);
    }

    private sealed class CountingFilter(string passing) : ISiteFilter
    {
        public int Reasons { get; private set; }

        public string Name => "counting";

        public bool Passes(in Candidate candidate) => candidate.Site.Id == passing;

        public string Reason(in Candidate candidate)
        {
            Reasons++;
            return $"not {passing}";
        }
    }
}
