namespace Scheduler.LoadTest;

/// <summary>
/// Whether one set of hosts' figures lies above another's: a one-sided Wilcoxon–Mann–Whitney rank-sum test, exact.
/// Every host of the bench is a fresh host, and hosts of one mode scatter by tens of percent. A round's two hosts, run
/// back to back, are no more alike than any two: over 104 rounds of 13 full runs their figures correlated at 0.04–0.17.
/// The sign test that compared each round's pair used n of the n² comparisons n rounds offer (docs/performance-history.md,
/// session 25).
/// </summary>
/// <remarks>
/// The statistic counts the pairs (x, y) with x above y. If both sets came from one distribution, every order of the
/// n + m values would be equally likely; the chance of as many such pairs or more is then exact by counting orders. A
/// tie counts for neither side, which can only make the test more reluctant. Nothing is assumed about the distribution.
/// </remarks>
public static class RankSumTest
{
    /// <summary>
    /// True when <paramref name="upper"/> lies above <paramref name="lower"/> at level <paramref name="alpha"/>; false
    /// when it lies below; null when the values do not settle it (with 3 hosts on each side the smallest chance is
    /// 1 in 20, so fewer cannot settle anything at 5 %).
    /// </summary>
    public static bool? Above(IReadOnlyCollection<double> upper, IReadOnlyCollection<double> lower, double alpha = 0.05)
    {
        if (upper.Count == 0 || lower.Count == 0) return null;
        if (UpperTail(upper.Count, lower.Count, PairsAbove(upper, lower)) <= alpha) return true;
        if (UpperTail(lower.Count, upper.Count, PairsAbove(lower, upper)) <= alpha) return false;
        return null;
    }

    /// <summary>How many pairs (x, y), x from <paramref name="xs"/> and y from <paramref name="ys"/>, have x above y.</summary>
    public static int PairsAbove(IEnumerable<double> xs, IReadOnlyCollection<double> ys) => xs.Sum(x => ys.Count(y => x > y));

    /// <summary>
    /// P(U ≥ <paramref name="pairs"/>) for U the pairs with x above y, when n values x and m values y are ordered at
    /// random (every order equally likely, no ties).
    /// </summary>
    public static double UpperTail(int n, int m, int pairs)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(n);
        ArgumentOutOfRangeException.ThrowIfNegative(m);
        // orders[j][u]: the orders of i x's and j y's with u pairs x above y, for the i of the loop. The largest value
        // is an x, above all j y's (u - j pairs among i - 1 x's and j y's), or a y (u pairs among i x's and j - 1 y's:
        // row j - 1, already replaced for this i).
        var max = n * m;
        var orders = new double[m + 1][];
        for (var j = 0; j <= m; j++)
        {
            orders[j] = new double[max + 1];
            orders[j][0] = 1; // no x: one order, no pairs
        }
        for (var i = 1; i <= n; i++)
            for (var j = 0; j <= m; j++)
            {
                var next = new double[max + 1];
                for (var u = 0; u <= i * j; u++)
                    next[u] = (u >= j ? orders[j][u - j] : 0) + (j > 0 ? orders[j - 1][u] : 0);
                orders[j] = next;
            }
        double tail = 0;
        for (var u = Math.Max(0, pairs); u <= max; u++) tail += orders[m][u];
        return tail / orders[m].Sum();
    }
}
