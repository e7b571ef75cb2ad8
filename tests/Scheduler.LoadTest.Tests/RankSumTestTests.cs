namespace Scheduler.LoadTest.Tests;

using CsCheck;
using Scheduler.LoadTest;

public class RankSumTestTests
{
    [Theory]
    [InlineData(3, 3, 9, 1.0 / 20)]   // all of x above all of y: one order of C(6, 3)
    [InlineData(2, 2, 4, 1.0 / 6)]
    [InlineData(2, 2, 3, 2.0 / 6)]
    [InlineData(8, 8, 64, 1.0 / 12_870)]
    [InlineData(4, 5, 0, 1.0)]
    [InlineData(0, 4, 0, 1.0)]
    public void UpperTail_OfKnownCases(int n, int m, int pairs, double expected) =>
        Assert.Equal(expected, RankSumTest.UpperTail(n, m, pairs), 12);

    [Fact]
    public void UpperTail_IsTheShareOfOrdersWithAtLeastSoManyPairsAbove()
    {
        // Every order of n x's and m y's as a bit mask (1: an x), smallest first; brute force against the recurrence.
        Gen.Select(Gen.Int[0, 6], Gen.Int[0, 6], Gen.Int[0, 40]).Sample((n, m, pairs) =>
        {
            var orders = 0;
            var atLeast = 0;
            for (var bits = 0; bits < 1 << (n + m); bits++)
            {
                if (System.Numerics.BitOperations.PopCount((uint)bits) != n) continue;
                orders++;
                int ysBelow = 0, above = 0;
                for (var k = 0; k < n + m; k++)
                    if ((bits >> k & 1) == 1) above += ysBelow;
                    else ysBelow++;
                if (above >= pairs) atLeast++;
            }
            Assert.Equal((double)atLeast / orders, RankSumTest.UpperTail(n, m, pairs), 12);
        });
    }

    [Theory]
    [InlineData(new[] { 4.0, 5, 6 }, new[] { 1.0, 2, 3 }, true)]        // 1 order in 20
    [InlineData(new[] { 1.0, 2, 3 }, new[] { 4.0, 5, 6 }, false)]
    [InlineData(new[] { 3.0, 4 }, new[] { 1.0, 2 }, null)]              // 2 a side can never settle it
    [InlineData(new[] { 4.0, 5, 6 }, new[] { 1.0, 2, 4 }, null)]        // a tie counts for neither side: 8 pairs, 1 in 10
    [InlineData(new[] { 9.0, 10, 11, 12, 2, 13, 14, 15 }, new[] { 1.0, 3, 4, 5, 6, 7, 8, 16 }, true)] // one astray each side
    [InlineData(new[] { 1.0, 2, 3 }, new double[0], null)]
    public void Above_SettlesOnlyWhenTheOrderIsUnlikelyByChance(double[] upper, double[] lower, bool? expected) =>
        Assert.Equal(expected, RankSumTest.Above(upper, lower));

    [Fact]
    public void SwappingTheSides_FlipsTheVerdict()
    {
        Gen.Select(Gen.Double[-50, 50].Array[0, 10], Gen.Double[-50, 50].Array[0, 10]).Sample((a, b) =>
        {
            var verdict = RankSumTest.Above(a, b);
            Assert.Equal(verdict is null ? null : !verdict, RankSumTest.Above(b, a));
        });
    }

    [Fact]
    public void RaisingTheUpperValues_NeverTurnsAVerdictAgainstThem()
    {
        // More pairs above can only make "above" likelier: a settled true stays true, an unsettled one never becomes false.
        Gen.Select(Gen.Double[-50, 50].Array[1, 10], Gen.Double[-50, 50].Array[1, 10], Gen.Double[0, 30]).Sample((a, b, raise) =>
        {
            var before = RankSumTest.Above(a, b);
            var after = RankSumTest.Above([.. a.Select(v => v + raise)], b);
            if (before == true) Assert.True(after);
            if (before is null) Assert.NotEqual(false, after);
        });
    }
}
