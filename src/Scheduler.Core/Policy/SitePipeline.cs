namespace Scheduler.Core.Policy;

using Scheduler.Core.Lifecycle;

/// <summary>
/// Filters then scorers over every candidate site for one job, Kubernetes-style: filters exclude, scorers rank,
/// scores are normalised to 0..100 across the passing sites, then weighted. The evaluation runs without allocating;
/// <see cref="Explain"/> turns the last evaluation into the per-site record a decision carries.
/// Not thread-safe: one instance per dispatcher.
/// </summary>
public sealed class SitePipeline
{
    private readonly ISiteFilter[] _filters;
    private readonly ISiteScorer[] _scorers;
    private readonly double[] _weights;

    // Scratch of the last evaluation, reused across calls.
    private Candidate[] _candidates = [];
    private int[] _rejectedBy = [];
    private double[] _raw = [];
    private double[] _total = [];
    private int _count;

    /// <param name="name">Name of the pipeline, for explanations.</param>
    /// <param name="filters">Feasibility stages, run in order; the first rejection wins.</param>
    /// <param name="scorers">Ranking stages with their weights (normalised here to sum to 1).</param>
    public SitePipeline(string name, IEnumerable<ISiteFilter> filters, IEnumerable<(ISiteScorer Scorer, double Weight)> scorers)
    {
        Name = name;
        _filters = filters.ToArray();
        var weighted = scorers.Where(s => s.Weight > 0).ToArray();
        _scorers = weighted.Select(s => s.Scorer).ToArray();
        var sum = weighted.Sum(s => s.Weight);
        _weights = weighted.Select(s => s.Weight / sum).ToArray();
    }

    public string Name { get; }
    public IReadOnlyList<ISiteFilter> Filters => _filters;
    public IReadOnlyList<ISiteScorer> Scorers => _scorers;

    /// <summary>
    /// Evaluates <paramref name="job"/> at every candidate in <paramref name="sites"/> except <paramref name="exclude"/>.
    /// Returns the winning site, or null when every site was rejected. Ties go to the earlier site.
    /// For a job bound to a site, the caller passes only the sites a move can reach (its own and the linked ones).
    /// </summary>
    public SiteView? Evaluate(
        JobState job, SiteView? from, IReadOnlyList<SiteView> sites, SiteView? exclude,
        DateTimeOffset now, Func<JobState, SiteView, SiteView, RelocationCost?> moveCost, double sourceGreenFraction, double horizonHours)
    {
        EnsureCapacity(sites.Count);
        _count = 0;
        var scorerCount = _scorers.Length;
        for (var i = 0; i < sites.Count; i++)
        {
            var site = sites[i];
            if (ReferenceEquals(site, exclude)) continue;
            var move = from is not null && !ReferenceEquals(from, site) ? moveCost(job, from, site) : null;
            var c = new Candidate(job, site, from, now, move, sourceGreenFraction, horizonHours);
            var k = _count++;
            _candidates[k] = c;
            _rejectedBy[k] = -1;
            for (var f = 0; f < _filters.Length; f++)
            {
                if (!_filters[f].Passes(in c)) { _rejectedBy[k] = f; break; }
            }
            if (_rejectedBy[k] >= 0) continue;
            for (var s = 0; s < scorerCount; s++) _raw[k * scorerCount + s] = _scorers[s].Score(in c);
        }

        Normalise();

        var best = -1;
        for (var k = 0; k < _count; k++)
        {
            if (_rejectedBy[k] >= 0) continue;
            if (best < 0 || _total[k] > _total[best]) best = k;
        }
        return best < 0 ? null : _candidates[best].Site;
    }

    /// <summary>The candidate record of the last evaluation for <paramref name="site"/>.</summary>
    public Candidate CandidateFor(SiteView site)
    {
        for (var k = 0; k < _count; k++)
            if (ReferenceEquals(_candidates[k].Site, site)) return _candidates[k];
        throw new ArgumentException($"site {site.Id} was not evaluated", nameof(site));
    }

    /// <summary>
    /// Every site of the last evaluation: why it was rejected, or what each scorer gave it. Compact until read, so
    /// explaining every decision costs little (see <see cref="Explanation"/>).
    /// </summary>
    public IReadOnlyList<CandidateEvaluation> Explain()
    {
        var n = _scorers.Length;
        return new Explanation(_filters, _scorers, _candidates.AsSpan(0, _count), _rejectedBy.AsSpan(0, _count),
            _raw.AsSpan(0, _count * n), _min.AsSpan(0, n), _max.AsSpan(0, n), _total.AsSpan(0, _count));
    }

    // Min-max normalisation per scorer across passing candidates, to 0..100; when all are equal, all get 100.
    private double[] _min = [], _max = [];

    private void Normalise()
    {
        var n = _scorers.Length;
        if (_min.Length < n) { _min = new double[n]; _max = new double[n]; }
        for (var s = 0; s < n; s++) { _min[s] = double.PositiveInfinity; _max[s] = double.NegativeInfinity; }
        for (var k = 0; k < _count; k++)
        {
            if (_rejectedBy[k] >= 0) continue;
            for (var s = 0; s < n; s++)
            {
                var v = _raw[k * n + s];
                if (v < _min[s]) _min[s] = v;
                if (v > _max[s]) _max[s] = v;
            }
        }
        for (var k = 0; k < _count; k++)
        {
            if (_rejectedBy[k] >= 0) { _total[k] = 0; continue; }
            double total = 0;
            for (var s = 0; s < n; s++) total += _weights[s] * Normalised(k, s);
            _total[k] = total;
        }
    }

    private double Normalised(int k, int s) => Normalise(_raw[k * _scorers.Length + s], _min[s], _max[s]);

    /// <summary>Min-max to 0..100; when every passing site scored the same, all get 100.</summary>
    internal static double Normalise(double raw, double min, double max) =>
        max - min > 0 ? 100.0 * (raw - min) / (max - min) : 100.0;

    private void EnsureCapacity(int sites)
    {
        if (_candidates.Length >= sites) return;
        _candidates = new Candidate[sites];
        _rejectedBy = new int[sites];
        _raw = new double[sites * Math.Max(1, _scorers.Length)];
        _total = new double[sites];
    }
}
