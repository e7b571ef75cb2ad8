namespace Scheduler.Replay.Tests;

using Scheduler.Core.Model;
using Scheduler.Replay.Optimum;
using static OptimumBuilders;

/// <summary>The offline optimum on cases small enough to work out by hand.</summary>
public class OptimumTests
{
    private const double Tolerance = 1e-5;

    private static Dictionary<string, double[]> Green(string site, params double[] mw) => new(StringComparer.Ordinal) { [site] = mw };

    [Fact]
    public void OfflineOptimum_UsesMinOfGreenAndLoad_WithOneSiteAndNoBattery()
    {
        // Base load 1 MW at PUE 1; green 0, 0.5, 2, 1.5 MW: used = Σ min(green, load) = 0 + 0.5 + 1 + 1.
        var scenario = Scenario([Site("a", baseLoadMw: 1)], Green("a", 0, 0.5, 2, 1.5));

        var board = OfflineOptimum.Solve(scenario).Scoreboard;

        Assert.Equal(4.0, board.GreenAvailableMWh, Tolerance);
        Assert.Equal(2.5, board.GreenUsedMWh, Tolerance);
        Assert.Equal(1.5, board.GridImportMWh, Tolerance);
        Assert.Equal(1.5, board.CurtailedMWh, Tolerance);
        Assert.Equal(2.5 / 4.0, board.GreenShare, Tolerance);
        Assert.Equal(0, board.BatteryThroughputMWh, Tolerance);
    }

    [Fact]
    public void OfflineOptimum_ShiftsSurplusToALaterDeficit_ThroughTheBatteryWithItsLoss()
    {
        // Hour 0: 2 MW green for a 1 MW load, so 1 MWh goes in and sqrt(0.81) = 0.9 of it is stored;
        // hour 1: no green, the battery gives back 0.9 × 0.9 = 0.81 MWh, the grid the other 0.19 MWh.
        var battery = new BatterySpec(10, 5, 5, RoundTripEfficiency: 0.81, MinStateOfCharge: 0, MaxStateOfCharge: 1);
        var scenario = Scenario([Site("a", baseLoadMw: 1, battery: battery)], Green("a", 2, 0));

        var result = OfflineOptimum.Solve(scenario);
        var board = result.Scoreboard;

        Assert.Equal(1 + 0.81, board.GreenUsedMWh, Tolerance);
        Assert.Equal(0.81, board.BatteryThroughputMWh, Tolerance);
        Assert.Equal(0.19, board.GridImportMWh, Tolerance);
        Assert.Equal(0, board.CurtailedMWh, Tolerance);
        var series = Assert.Single(result.Sites);
        Assert.Equal([-1, 0.81], series.BatteryMegawatts.Select(x => Math.Round(x, 5)));
        Assert.Equal([0.09, 0], series.StateOfChargeFraction.Select(x => Math.Round(x, 5)));
    }

    [Fact]
    public void OfflineOptimum_StartsTheBatteryAtItsMinimum_SoItCannotDischargeWhatWasNeverCharged()
    {
        var battery = new BatterySpec(10, 5, 5, 0.81, MinStateOfCharge: 0.5, MaxStateOfCharge: 1);
        var scenario = Scenario([Site("a", baseLoadMw: 1, battery: battery)], Green("a", 0, 0));

        var board = OfflineOptimum.Solve(scenario).Scoreboard;

        Assert.Equal(0, board.GreenUsedMWh, Tolerance);
        Assert.Equal(2, board.GridImportMWh, Tolerance);
    }

    [Fact]
    public void OfflineOptimum_PlacesAJobInTheGreenHours_OfItsWindow()
    {
        // 1,000 GPUs = 1 MW; green only in hours 2 and 3; the job needs two full hours and may run in hours 0..3.
        var scenario = Scenario([Site("a")], Green("a", 0, 0, 5, 5, 0), [Job("j", 2000, arrivalHour: 0, deadlineHour: 4)]);

        var solution = OfflineOptimum.SolveDetailed(scenario);
        var board = solution.Result.Scoreboard;

        Assert.Equal(2, board.GreenUsedMWh, Tolerance);
        Assert.Equal(0, board.GridImportMWh, Tolerance);
        Assert.Equal([0, 0, 1000, 1000, 0], solution.GpusRunning["a"].Select(x => Math.Round(x, 3)));
        Assert.Equal(0, solution.UnmetWorkGpuHours, Tolerance);
        Assert.Equal(1, board.CompletedJobs);
        Assert.Equal(0, board.DeadlineMisses);
    }

    [Fact]
    public void OfflineOptimum_RunsAJobOnTheGrid_WhenItsDeadlineComesBeforeTheGreen()
    {
        // Same green, but the job is due at the end of hour 1: it must run in hours 0 and 1 on grid power.
        var scenario = Scenario([Site("a")], Green("a", 0, 0, 5, 5, 0), [Job("j", 2000, arrivalHour: 0, deadlineHour: 2)]);

        var solution = OfflineOptimum.SolveDetailed(scenario);

        Assert.Equal(0, solution.Result.Scoreboard.GreenUsedMWh, Tolerance);
        Assert.Equal(2, solution.Result.Scoreboard.GridImportMWh, Tolerance);
        Assert.Equal(0, solution.UnmetWorkGpuHours, Tolerance);
    }

    [Fact]
    public void OfflineOptimum_NeverRunsAJobBeforeItArrives()
    {
        // Green only in hour 0, but the job arrives in hour 1.
        var scenario = Scenario([Site("a")], Green("a", 5, 0, 0), [Job("j", 1000, arrivalHour: 1)]);

        var solution = OfflineOptimum.SolveDetailed(scenario);

        Assert.Equal(0, solution.GpusRunning["a"][0], Tolerance);
        Assert.Equal(0, solution.Result.Scoreboard.GreenUsedMWh, Tolerance);
    }

    [Fact]
    public void OfflineOptimum_NeverExports_AndConservesEnergyAtEveryStep()
    {
        var battery = new BatterySpec(4, 2, 2, 0.9, 0.1, 0.9);
        var scenario = Scenario([Site("a", baseLoadMw: 0.5, battery: battery), Site("b", baseLoadMw: 0.2)],
            new Dictionary<string, double[]> { ["a"] = [9, 0, 3, 0, 7, 0], ["b"] = [0, 4, 0, 0, 8, 1] },
            [Job("j1", 3000), Job("j2", 1500, arrivalHour: 2, deadlineHour: 5, allowed: ["b"])]);

        var result = OfflineOptimum.Solve(scenario);

        Assert.Equal(0, result.Scoreboard.ExportMWh);
        foreach (var site in result.Sites)
            for (var t = 0; t < scenario.Steps; t++)
            {
                Assert.Equal(0, site.ExportMegawatts[t]);
                // load - import = green direct + discharge; green - curtailment = green direct + charge.
                Assert.Equal(site.BatteryMegawatts[t], site.LoadMegawatts[t] - site.GridImportMegawatts[t] - (site.GreenMegawatts[t] - site.CurtailmentMegawatts[t]), 1e-6);
                Assert.True(site.CurtailmentMegawatts[t] >= 0 && site.CurtailmentMegawatts[t] <= site.GreenMegawatts[t] + 1e-9);
            }
        // Green available = used directly + charged + curtailed, and used = direct + discharged: the difference is net charge.
        var netChargedMWh = -result.Sites.Sum(s => s.BatteryMegawatts.Sum());
        Assert.Equal(result.Scoreboard.GreenAvailableMWh, result.Scoreboard.GreenUsedMWh + result.Scoreboard.CurtailedMWh + netChargedMWh, 1e-5);
    }

    [Fact]
    public void OfflineOptimum_KeepsPinnedJobsAtTheirSite_EvenWhenGreenIsElsewhere()
    {
        // "b" is green all the time, "a" never: the pinned job must still run at "a", on the grid.
        var scenario = Scenario([Site("a"), Site("b")], new Dictionary<string, double[]> { ["a"] = [0, 0], ["b"] = [5, 5] },
            [Job("pinned", 1000, allowed: ["a"]), Job("free", 1000)]);

        var solution = OfflineOptimum.SolveDetailed(scenario);

        Assert.Equal(1000, solution.GpusRunning["a"].Sum(), 1e-3);
        Assert.Equal(1000, solution.GpusRunning["b"].Sum(), 1e-3);
        Assert.Equal(1, solution.Result.Scoreboard.GreenUsedMWh, Tolerance);
        Assert.Equal(1, solution.Result.Scoreboard.GridImportMWh, Tolerance);
    }

    [Fact]
    public void OfflineOptimum_ReportsUnmetWork_InsteadOfFailing_WhenADeadlineIsImpossible()
    {
        // 3,000 GPU-hours due within one hour on 1,000 GPUs: 2,000 cannot be done.
        var scenario = Scenario([Site("a")], Green("a", 5, 5), [Job("late", 3000, arrivalHour: 0, deadlineHour: 1)]);

        var solution = OfflineOptimum.SolveDetailed(scenario);

        Assert.Equal("OPTIMAL", solution.Status);
        Assert.Equal(2000, solution.UnmetWorkGpuHours, 1e-3);
        Assert.Equal(1000, solution.GpusRunning["a"][0], 1e-3);
    }

    [Fact]
    public void OfflineOptimum_FollowsThePueOfEachStep()
    {
        // PUE 1.15 at 0 °C and 1.35 at 30 °C: the same 1,000 GPUs draw 1.15 MW then 1.35 MW, all from the grid.
        var scenario = Scenario([Site("a", cooling: CoolingModel.ColdClimate)], Green("a", 0, 0), [Job("j", 2000, deadlineHour: 2)],
            celsius: new Dictionary<string, double[]> { ["a"] = [0, 30] });

        var result = OfflineOptimum.Solve(scenario);

        Assert.Equal([1.15, 1.35], result.Sites[0].LoadMegawatts.Select(x => Math.Round(x, 6)));
        Assert.Equal(2.5, result.Scoreboard.GridImportMWh, Tolerance);
        Assert.Equal(2.5 * 1000 * 0.5, result.Scoreboard.CostCny, 1e-2);
        Assert.Equal(2.5 * 1000 * 0.8, result.Scoreboard.Co2Kg, 1e-2);
    }

    [Fact]
    public void OfflineOptimum_IsNamedOptimum_AndHasNoStints()
    {
        var result = OfflineOptimum.Solve(Scenario([Site("a")], Green("a", 1), [Job("j", 500)]));

        Assert.Equal(Policies.Optimum, result.Policy);
        Assert.Empty(result.Stints);
        Assert.Equal(0, result.Scoreboard.Relocations);
    }

    [Theory]
    [InlineData(OptimumLpSolver.Glop)]
    [InlineData(OptimumLpSolver.Pdlp)]
    [InlineData(OptimumLpSolver.Clp)]
    [InlineData(OptimumLpSolver.ClpBarrier)]
    public void OfflineOptimum_GivesTheSameGreenEnergy_WithEverySolver(OptimumLpSolver solver)
    {
        var scenario = Scenario([Site("a", baseLoadMw: 0.3, battery: new BatterySpec(2, 1, 1, 0.9, 0, 1)), Site("b")],
            new Dictionary<string, double[]> { ["a"] = [2, 0, 0, 1.5], ["b"] = [0, 0, 2, 0] },
            [Job("j1", 2000, deadlineHour: 4), Job("j2", 1000, arrivalHour: 1, allowed: ["a"])]);

        var reference = OfflineOptimum.SolveDetailed(scenario, new OptimumOptions { Solver = OptimumLpSolver.Glop }).Result.Scoreboard.GreenUsedMWh;
        var board = OfflineOptimum.SolveDetailed(scenario, new OptimumOptions { Solver = solver }).Result.Scoreboard;

        Assert.Equal(reference, board.GreenUsedMWh, 1e-3);
    }
}
