namespace Scheduler.Replay.Tests;

using CsCheck;
using Scheduler.Core.Lifecycle;
using Scheduler.Core.Model;
using Scheduler.Core.Policy;
using Scheduler.Core.Simulation;
using Scheduler.Replay.Optimum;
using Scheduler.Scenarios;
using Xunit.Abstractions;
using static OptimumBuilders;

/// <summary>
/// The upper-bound claim, tested: on small random fleets the optimum uses at least as much green energy as Core's
/// <see cref="FleetSimulator"/> with the default <see cref="Dispatcher"/> on the same inputs, whenever the simulated
/// schedule meets every deadline (the bound covers schedules that do).
/// </summary>
public class OptimumPropertyTests(ITestOutputHelper output)
{
    /// <summary>Plays a scenario's series to the simulator, step by step.</summary>
    private sealed class ScenarioConditions(LoadedScenario scenario) : ISiteConditions
    {
        private int StepAt(DateTimeOffset at) => Math.Clamp((int)((at - scenario.Start) / scenario.Step), 0, scenario.Steps - 1);

        public double GreenSupplyMegawatts(string siteId, DateTimeOffset at) => scenario.SiteGreenMegawatts(siteId, StepAt(at));

        public double OutsideCelsius(string siteId, DateTimeOffset at) => scenario.SiteCelsius[siteId][StepAt(at)];
    }

    /// <summary>A random fleet of 1-3 sites over 24-40 hours with 1-6 jobs whose deadlines leave room, so the dispatcher can meet them.</summary>
    private static LoadedScenario RandomFleet(int seed)
    {
        var random = new Random(seed);
        var siteCount = random.Next(1, 4);
        var steps = random.Next(24, 41);
        var sites = new List<SiteSpec>();
        var green = new Dictionary<string, double[]>(StringComparer.Ordinal);
        var celsius = new Dictionary<string, double[]>(StringComparer.Ordinal);
        for (var i = 0; i < siteCount; i++)
        {
            var id = $"s{i}";
            var battery = random.NextDouble() < 0.6
                ? new BatterySpec(1 + 3 * random.NextDouble(), 0.3 + 1.5 * random.NextDouble(), 0.3 + 1.5 * random.NextDouble(),
                    0.8 + 0.15 * random.NextDouble(), 0.1, 0.9)
                : BatterySpec.None;
            sites.Add(Site(id, gpus: random.Next(600, 2001), baseLoadMw: 0.4 * random.NextDouble(), battery: battery,
                cooling: CoolingModel.ColdClimate));
            // Green comes in spells: a level held for a few hours, sometimes nothing.
            var series = new double[steps];
            var level = 0.0;
            for (var t = 0; t < steps; t++)
            {
                if (t % random.Next(2, 7) == 0) level = random.NextDouble() < 0.3 ? 0 : 3 * random.NextDouble();
                series[t] = level;
            }
            green[id] = series;
            celsius[id] = [.. Enumerable.Range(0, steps).Select(_ => -10 + 40 * random.NextDouble())];
        }

        var jobs = new List<JobSpec>();
        var jobCount = random.Next(1, 7);
        for (var j = 0; j < jobCount; j++)
        {
            var gpus = random.Next(1, 6) * 100;
            var hours = random.Next(1, 7);
            var arrival = random.Next(0, 8);
            var deadline = arrival + hours + random.Next(4, 13);
            string[] allowed = random.NextDouble() < 0.3 ? [$"s{random.Next(siteCount)}"] : [];
            jobs.Add(Job($"j{j}", gpus * (double)hours, arrival, Math.Min(deadline, steps), gpus, allowed,
                interruptible: random.NextDouble() < 0.7, tokensPerGpuHour: 1000));
        }
        return Scenario(sites, green, jobs, celsius, name: $"random-{seed}");
    }

    private static (double GreenUsedMWh, bool MetEveryDeadline) Simulate(LoadedScenario scenario)
    {
        var simulator = new FleetSimulator(scenario.Sites, scenario.Plants, scenario.Links, new ScenarioConditions(scenario),
            new Dispatcher(new PolicyOptions()), scenario.Start, scenario.Step);
        foreach (var job in scenario.Jobs) simulator.Submit(job);
        for (var t = 0; t < scenario.Steps; t++) simulator.Advance();
        var green = simulator.SiteLedgers.Values.Sum(l => l.GreenMegawattHours + l.BatteryMegawattHours);
        var met = scenario.Jobs.All(j => simulator.Jobs.TryGetValue(j.Id, out var state)
            && state.Status == JobStatus.Completed && state.LastTransitionAt <= (j.Deadline ?? scenario.End));
        return (green, met);
    }

    [Fact]
    public void OfflineOptimum_UsesAtLeastTheGreenEnergyOfTheDefaultDispatcher_OnRandomFleets()
    {
        var compared = 0;
        var total = 0;
        Gen.Int[0, int.MaxValue].Sample(seed =>
        {
            var scenario = RandomFleet(seed);
            var (simulatedGreen, met) = Simulate(scenario);
            Interlocked.Increment(ref total);
            if (!met) return;
            Interlocked.Increment(ref compared);
            var solution = OfflineOptimum.SolveDetailed(scenario);
            var optimumGreen = solution.Result.Scoreboard.GreenUsedMWh;
            Assert.Equal(0, solution.UnmetWorkGpuHours, 1e-6);
            // Tolerance: solver accuracy and the 1e-6 tie-break on import.
            Assert.True(optimumGreen >= simulatedGreen - 1e-5 * (1 + simulatedGreen),
                $"seed {seed}: optimum {optimumGreen:F6} MWh < simulated {simulatedGreen:F6} MWh");
        }, iter: 150, threads: 1);
        output.WriteLine($"{compared} of {total} random fleets compared (the others missed a deadline in simulation)");
        Assert.True(compared >= total / 2, $"only {compared} of {total} random fleets met every deadline in simulation");
    }

    [Fact]
    public void OfflineOptimum_NeverExports_AndKeepsPinnedWorkAtItsSite_OnRandomFleets()
    {
        Gen.Int[0, int.MaxValue].Sample(seed =>
        {
            var scenario = RandomFleet(seed);
            var solution = OfflineOptimum.SolveDetailed(scenario);
            Assert.Equal(0, solution.Result.Scoreboard.ExportMWh);
            Assert.All(solution.Result.Sites, s => Assert.All(s.ExportMegawatts, x => Assert.Equal(0, x)));
            // Sites that no free job may use and no pinned job names run no GPUs at all.
            var usable = scenario.Jobs.SelectMany(j => j.AllowedSites.Count == 0 ? scenario.Sites.Select(s => s.Id) : j.AllowedSites).ToHashSet();
            foreach (var site in scenario.Sites.Where(s => !usable.Contains(s.Id)))
                Assert.All(solution.GpusRunning[site.Id], g => Assert.Equal(0, g, 1e-6));
            // Work done equals the work asked for.
            Assert.Equal(scenario.Jobs.Sum(j => j.WorkGpuHours), solution.GpusRunning.Values.Sum(s => s.Sum()) * scenario.Step.TotalHours, 1e-3);
        }, iter: 60, threads: 1);
    }
}
