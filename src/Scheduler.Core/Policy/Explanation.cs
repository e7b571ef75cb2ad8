namespace Scheduler.Core.Policy;

using Scheduler.Core.Lifecycle;

/// <summary>
/// The per-site record of one decision: which filter rejected each candidate site and why, or what each scorer gave
/// it. Held as compact arrays; each site's <see cref="CandidateEvaluation"/> (with its formatted reason) is built only
/// when read: a round decides thousands of moves, most explanations are never looked at, and a traced one shows only a
/// few sites.
/// </summary>
internal sealed class Explanation : IReadOnlyList<CandidateEvaluation>
{
    private readonly IReadOnlyList<ISiteFilter> _filters;
    private readonly IReadOnlyList<ISiteScorer> _scorers;
    private readonly JobState _job;
    private readonly SiteView? _from;
    private readonly DateTimeOffset _now;
    private readonly double _sourceGreenFraction, _horizonHours;
    private readonly SiteView[] _sites;
    private readonly int[] _freeGpus;
    private readonly double[] _loadMegawatts;
    private readonly RelocationCost?[]? _moves; // null for a queued job: nothing moves
    private readonly int[] _rejectedBy;
    private readonly double[] _raw, _min, _max, _total;

    public Explanation(IReadOnlyList<ISiteFilter> filters, IReadOnlyList<ISiteScorer> scorers,
        ReadOnlySpan<Candidate> candidates, ReadOnlySpan<int> rejectedBy, ReadOnlySpan<double> raw,
        ReadOnlySpan<double> min, ReadOnlySpan<double> max, ReadOnlySpan<double> total)
    {
        _filters = filters;
        _scorers = scorers;
        var n = candidates.Length;
        if (n > 0)
        {
            var c = candidates[0];
            (_job, _from, _now, _sourceGreenFraction, _horizonHours) = (c.Job, c.From, c.Now, c.SourceGreenFraction, c.HorizonHours);
        }
        else _job = null!;
        _sites = new SiteView[n];
        _freeGpus = new int[n];
        _loadMegawatts = new double[n];
        _moves = _from is null ? null : new RelocationCost?[n];
        for (var k = 0; k < n; k++)
        {
            ref readonly var c = ref candidates[k];
            _sites[k] = c.Site;
            _freeGpus[k] = c.FreeGpus;
            _loadMegawatts[k] = c.LoadMegawatts;
            if (_moves is not null) _moves[k] = c.Move;
        }
        _rejectedBy = rejectedBy.ToArray();
        _raw = raw.ToArray();
        _min = min.ToArray();
        _max = max.ToArray();
        _total = total.ToArray();
    }

    public int Count => _sites.Length;

    /// <summary>
    /// Built on each read, one record at a time: a trace shows a few of them (<see cref="CandidateSummary"/>), and
    /// keeping what was built would cost every traced decision an array as long as the fleet.
    /// </summary>
    public CandidateEvaluation this[int index] => Evaluate(index);

    public IEnumerator<CandidateEvaluation> GetEnumerator()
    {
        for (var k = 0; k < Count; k++) yield return this[k];
    }

    System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();

    /// <summary>A candidate's site, read without building its record.</summary>
    public string SiteIdAt(int index) => _sites[index].Id;

    /// <summary>The filter that rejected a candidate (null: it passed), read without building its record.</summary>
    public string? RejectedByAt(int index) => _rejectedBy[index] is var f and >= 0 ? _filters[f].Name : null;

    /// <summary>A candidate's total score (0 when rejected), read without building its record.</summary>
    public double TotalScoreAt(int index) => _rejectedBy[index] >= 0 ? 0 : _total[index];

    private CandidateEvaluation Evaluate(int k)
    {
        if (_rejectedBy[k] is var f and >= 0)
        {
            var c = new Candidate(_job, _sites[k], _from, _now, _moves?[k], _sourceGreenFraction, _horizonHours, _freeGpus[k], _loadMegawatts[k]);
            return new CandidateEvaluation(_sites[k].Id, c.HeadroomMegawatts, _filters[f].Name, _filters[f].Reason(in c), [], 0);
        }
        var n = _scorers.Count;
        var scores = new StageScore[n];
        for (var s = 0; s < n; s++)
        {
            var raw = _raw[k * n + s];
            scores[s] = new StageScore(_scorers[s].Name, raw, SitePipeline.Normalise(raw, _min[s], _max[s]));
        }
        return new CandidateEvaluation(_sites[k].Id, _sites[k].GreenSupplyMegawatts - _loadMegawatts[k], null, null, scores, _total[k]);
    }
}
