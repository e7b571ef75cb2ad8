namespace Scheduler.Core.Policy;

/// <summary>
/// What a decision's trace shows of its candidate sites: the chosen site and the best of the others by score, and the
/// rejected sites grouped by the filter that rejected them. At 150 sites a span cannot carry every site's record, and
/// building every record (each rejection's formatted reason) cost more than the rest of a traced decision.
/// </summary>
/// <param name="Best">Scored sites: the chosen one first, then by total score, ties by site id; at most as many as asked for.</param>
/// <param name="Rejected">One group per rejecting filter, in the order the filters first rejected a site.</param>
public sealed record CandidateSummary(IReadOnlyList<CandidateEvaluation> Best, IReadOnlyList<RejectedCandidates> Rejected)
{
    /// <summary>
    /// Summarises <paramref name="candidates"/>. Of a decision's own explanation, only the records shown are built:
    /// the best, and the first site of each filter's group.
    /// </summary>
    public static CandidateSummary Of(IReadOnlyList<CandidateEvaluation> candidates, string chosenSiteId, int best)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(best);
        var compact = candidates as Explanation;
        string SiteId(int k) => compact is null ? candidates[k].SiteId : compact.SiteIdAt(k);
        double TotalScore(int k) => compact is null ? candidates[k].TotalScore : compact.TotalScoreAt(k);

        var scored = new List<int>(candidates.Count);
        var groups = new List<(string Filter, List<int> Sites)>();
        for (var k = 0; k < candidates.Count; k++)
        {
            var rejectedBy = compact is null ? candidates[k].RejectedBy : compact.RejectedByAt(k);
            if (rejectedBy is null)
            {
                scored.Add(k);
                continue;
            }
            var group = 0;
            while (group < groups.Count && groups[group].Filter != rejectedBy) group++; // a handful of filters
            if (group == groups.Count) groups.Add((rejectedBy, []));
            groups[group].Sites.Add(k);
        }
        // Sorted in place: a traced decision sorts up to every site, and LINQ's ordering buffered keys for each.
        scored.Sort((a, b) =>
        {
            var (siteA, siteB) = (SiteId(a), SiteId(b));
            var chosenFirst = (siteB == chosenSiteId).CompareTo(siteA == chosenSiteId);
            if (chosenFirst != 0) return chosenFirst;
            var byScore = TotalScore(b).CompareTo(TotalScore(a));
            return byScore != 0 ? byScore : string.CompareOrdinal(siteA, siteB);
        });
        return new CandidateSummary(
            scored.Take(best).Select(k => candidates[k]).ToArray(),
            groups.Select(g => new RejectedCandidates(g.Filter, g.Sites.Select(SiteId).ToArray(), candidates[g.Sites[0]])).ToArray());
    }
}

/// <summary>The sites one filter rejected.</summary>
/// <param name="Filter">The filter's name.</param>
/// <param name="SiteIds">The sites it rejected, in candidate order.</param>
/// <param name="First">The first of them, with the reason.</param>
public sealed record RejectedCandidates(string Filter, IReadOnlyList<string> SiteIds, CandidateEvaluation First);
