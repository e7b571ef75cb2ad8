namespace Scheduler.Replay.Tests;

using System.Diagnostics;
using Scheduler.Replay.Optimum;
using Xunit.Abstractions;

/// <summary>
/// The optimum at full size: a year of hourly steps at three sites with about 5,000 jobs. Opt-in (it takes a core for
/// seconds to minutes): set <c>SCHEDULER_SLOW_TESTS=1</c>.
/// </summary>
[Trait("Category", "Slow")]
public class OptimumScaleTests(ITestOutputHelper output)
{
    [SkippableTheory]
    [InlineData(OptimumLpSolver.Glop)]
    [InlineData(OptimumLpSolver.ClpBarrier)]
    public void OfflineOptimum_SolvesAYearAtThreeSites_InSeconds(OptimumLpSolver solver)
    {
        Skip.IfNot(Environment.GetEnvironmentVariable("SCHEDULER_SLOW_TESTS") == "1", "slow: set SCHEDULER_SLOW_TESTS=1");
        var scenario = OptimumBuilders.GreatPlainsLike();
        var watch = Stopwatch.StartNew();
        var solution = OfflineOptimum.SolveDetailed(scenario, new OptimumOptions { Solver = solver });
        watch.Stop();
        var board = solution.Result.Scoreboard;
        output.WriteLine($"{solution.Solver} {solution.Status}: {solution.Variables} columns, {solution.Constraints} rows, {solution.Nonzeros} non-zeros, " +
            $"{solution.JobClasses} job classes; build {solution.BuildSeconds:F2} s, solve {solution.SolveSeconds:F2} s, total {watch.Elapsed.TotalSeconds:F2} s");
        output.WriteLine($"green available {board.GreenAvailableMWh:F0} MWh, used {board.GreenUsedMWh:F0} MWh, share {board.GreenShare:P1}, curtailed {board.CurtailedMWh:F0}, " +
            $"import {board.GridImportMWh:F0}, battery {board.BatteryThroughputMWh:F0}, unmet {solution.UnmetWorkGpuHours:F0} GPU-h, shortfall {solution.ShortfallMegawattHours:F1} MWh");
        Assert.Contains(solution.Status, new[] { "OPTIMAL", "FEASIBLE" });
        Assert.Equal(0, board.ExportMWh);
        Assert.InRange(board.GreenUsedMWh, 0, board.GreenAvailableMWh + 1e-6 * board.GreenAvailableMWh);
    }
}
