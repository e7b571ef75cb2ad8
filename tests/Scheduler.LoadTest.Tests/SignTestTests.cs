namespace Scheduler.LoadTest.Tests;

using System.Numerics;
using CsCheck;
using Scheduler.LoadTest;

public class SignTestTests
{
    [Theory]
    [InlineData(5, 5, 1.0 / 32)]
    [InlineData(8, 7, 9.0 / 256)]
    [InlineData(10, 9, 11.0 / 1024)]
    [InlineData(3, 3, 1.0 / 8)]
    [InlineData(6, 0, 1.0)]
    public void TailProbability_OfKnownCases(int n, int k, double expected) =>
        Assert.Equal(expected, SignTest.TailProbability(n, k), 12);

    [Fact]
    public void TailProbability_IsTheShareOfOutcomesWithAtLeastKHeads()
    {
        Gen.Select(Gen.Int[0, 14], Gen.Int[0, 15]).Sample((n, k) =>
        {
            var outcomes = 1 << n;
            var atLeastK = Enumerable.Range(0, outcomes).Count(bits => BitOperations.PopCount((uint)bits) >= k);
            Assert.Equal((double)atLeastK / outcomes, SignTest.TailProbability(n, k), 12);
        });
    }

    [Theory]
    [InlineData(new[] { 1.0, -5, 9, 3, 10 }, true)]        // all 5 within (10 itself is within)
    [InlineData(new[] { 1.0, -5, 9, 3, 11 }, null)]        // 4 of 5: not enough
    [InlineData(new[] { 1.0, 2, 3 }, null)]                // 3 rounds can never settle it
    [InlineData(new[] { 1.0, 2, 3, 4, 5, 6, 7, 17 }, true)] // 7 of 8
    [InlineData(new[] { 1.0, 2, 3, 4, 5, 6, 16, 17 }, null)] // 6 of 8
    [InlineData(new[] { 11.0, 12, 13, 14, 15, 16, 17, 1 }, false)] // 7 of 8 above
    [InlineData(new double[0], null)]
    public void MedianAtMost_SettlesOnlyWithEnoughRoundsOnOneSide(double[] values, bool? expected) =>
        Assert.Equal(expected, SignTest.MedianAtMost(values, 10));

    [Fact]
    public void MirroringTheRoundsAboutTheLimit_FlipsTheVerdict()
    {
        // Values never exactly at the limit, so that each side's count mirrors the other's.
        Gen.Double[-50, 50].Where(v => v != 10).Array[0, 12].Sample(values =>
        {
            var mirrored = values.Select(v => 20 - v).ToArray();
            var verdict = SignTest.MedianAtMost(values, 10);
            Assert.Equal(verdict is null ? null : !verdict, SignTest.MedianAtMost(mirrored, 10));
        });
    }
}
