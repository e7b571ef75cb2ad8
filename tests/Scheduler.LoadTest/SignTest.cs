namespace Scheduler.LoadTest;

/// <summary>
/// Whether paired rounds settle a limit on their median: a one-sided sign test. Each round is one draw; if the true
/// median were on the other side of the limit, a draw would fall on this side with chance at most ½, so k of n on this
/// side has chance at most P(Binomial(n, ½) ≥ k). Nothing is assumed about how the rounds scatter, which on a shared VM
/// drifts from minute to minute by as much as the effect measured.
/// </summary>
public static class SignTest
{
    /// <summary>
    /// True when so many values are at or below <paramref name="limit"/> that a median above it would give as many in
    /// under <paramref name="alpha"/> of runs (5 of 5, 7 of 8, 9 of 10 at 5 %); false when as many are above it; null
    /// otherwise: the values do not settle it (no number of rounds under 5 can at 5 %).
    /// </summary>
    public static bool? MedianAtMost(IReadOnlyCollection<double> values, double limit, double alpha = 0.05)
    {
        var n = values.Count;
        var within = values.Count(v => v <= limit);
        if (n > 0 && TailProbability(n, within) <= alpha) return true;
        if (n > 0 && TailProbability(n, n - within) <= alpha) return false;
        return null;
    }

    /// <summary>P(Binomial(n, ½) ≥ k).</summary>
    public static double TailProbability(int n, int k)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(n);
        double tail = 0, choose = 1; // C(n, 0)
        for (var i = 0; i <= n; i++)
        {
            if (i >= k) tail += choose;
            choose = choose * (n - i) / (i + 1);
        }
        return tail / Math.Pow(2, n);
    }
}
