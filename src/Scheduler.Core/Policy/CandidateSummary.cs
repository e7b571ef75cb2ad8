namespace Scheduler.Core.Policy;

/// <summary>
/// What a decision's trace shows of its candidate sites: the chosen site and the best of the others by score, and the
/// rejected sites grouped by the filter that rejected them. Every decision is traced, so this stays the same size at
/// any fleet size: at 150 sites, building every site's record (each rejection's formatted reason) and listing every
/// rejected site cost more than the rest of a traced decision.
/// </summary>
/// <param name="Best">Scored sites: the chosen one first, then by total score, ties by site id; at most the limit.</param>
/// <param name="Rejected">One group per rejecting filter, in the order the filters first rejected a site.</param>
public sealed record CandidateSummary(IReadOnlyList<CandidateEvaluation> Best, IReadOnlyList<RejectedCandidates> Rejected)
{
    /// <summary>
    /// Summarises <paramref name="candidates"/>, showing at most <paramref name="limit"/> scored sites, and as many
    /// site ids per rejecting filter. Of a decision's own explanation, only the records shown are built: the best, and
    /// the first site of each filter's group.
    /// </summary>
    public static CandidateSummary Of(IReadOnlyList<CandidateEvaluation> candidates, string chosenSiteId, int limit)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(limit);
        var compact = candidates as Explanation;
        string SiteId(int k) => compact is null ? candidates[k].SiteId : compact.SiteIdAt(k);
        double TotalScore(int k) => compact is null ? candidates[k].TotalScore : compact.TotalScoreAt(k);

        var scored = new List<int>(candidates.Count);
        var groups = new List<(string Filter, int Count, int First, List<string> SiteIds)>();
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
            if (group == groups.Count) groups.Add((rejectedBy, 0, k, []));
            var (filter, count, first, siteIds) = groups[group];
            if (siteIds.Count < limit) siteIds.Add(SiteId(k));
            groups[group] = (filter, count + 1, first, siteIds);
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
        var best = new CandidateEvaluation[Math.Min(limit, scored.Count)];
        for (var i = 0; i < best.Length; i++) best[i] = candidates[scored[i]];
        return new CandidateSummary(best, groups.Select(g => new RejectedCandidates(g.Filter, g.Count, g.SiteIds, candidates[g.First])).ToArray());
    }
}

/// <summary>The sites one filter rejected.</summary>
/// <param name="Filter">The filter's name.</param>
/// <param name="Count">How many sites it rejected.</param>
/// <param name="SiteIds">The first of them, in candidate order, up to the summary's limit.</param>
/// <param name="First">The first of them, with the reason.</param>
public sealed record RejectedCandidates(string Filter, int Count, IReadOnlyList<string> SiteIds, CandidateEvaluation First);
