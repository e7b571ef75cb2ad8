namespace Scheduler.Core.Policy;

using Scheduler.Core.Lifecycle;

/// <summary>
/// The per-site record of one decision: which filter rejected each candidate site and why, or what each scorer gave
/// it. Held as compact arrays and turned into <see cref="CandidateEvaluation"/>s (with their formatted reasons) only
/// when first read: a round decides thousands of moves, and most explanations are never looked at.
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
    private CandidateEvaluation[]? _items;

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

    public CandidateEvaluation this[int index] => Items[index];

    public IEnumerator<CandidateEvaluation> GetEnumerator() => ((IEnumerable<CandidateEvaluation>)Items).GetEnumerator();

    System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();

    private CandidateEvaluation[] Items => LazyInitializer.EnsureInitialized(ref _items, Materialise);

    private CandidateEvaluation[] Materialise()
    {
        var n = _scorers.Count;
        var result = new CandidateEvaluation[_sites.Length];
        for (var k = 0; k < result.Length; k++)
        {
            if (_rejectedBy[k] is var f and >= 0)
            {
                var c = new Candidate(_job, _sites[k], _from, _now, _moves?[k], _sourceGreenFraction, _horizonHours, _freeGpus[k], _loadMegawatts[k]);
                result[k] = new CandidateEvaluation(_sites[k].Id, c.HeadroomMegawatts, _filters[f].Name, _filters[f].Reason(in c), [], 0);
                continue;
            }
            var scores = new StageScore[n];
            for (var s = 0; s < n; s++)
            {
                var raw = _raw[k * n + s];
                scores[s] = new StageScore(_scorers[s].Name, raw, SitePipeline.Normalise(raw, _min[s], _max[s]));
            }
            result[k] = new CandidateEvaluation(_sites[k].Id, _sites[k].GreenSupplyMegawatts - _loadMegawatts[k], null, null, scores, _total[k]);
        }
        return result;
    }
}
