namespace Scheduler.Replay.Tests;

using Scheduler.Replay.Driver;
using Scheduler.Replay.Optimum;
using Scheduler.Scenarios;

/// <summary>A short slice of each shipped scenario, replayed through the real system under every policy.</summary>
public class ShippedScenarioTests
{
    [Theory]
    [InlineData(ScenarioCatalog.InnerMongolia, 2)]
    [InlineData(ScenarioCatalog.GreatPlains, 2)]
    [InlineData(ScenarioCatalog.WinterStress, 2)]
    public async Task ASlice_KeepsTheInvariants_BeatsAgnostic_AndStaysUnderTheOptimum(string name, int days)
    {
        var full = ScenarioCatalog.Load(name);
        var scenario = full.Slice(full.Start, full.Start.AddDays(days));
        Assert.True(scenario.Jobs.Count > 0, $"{name}: the slice has no jobs");

        await using var host = await ReplayHost.StartAsync();
        var outcomes = await new ReplayDriver(host.Channel).RunAsync(scenario, [Policies.Scheduler, Policies.Greedy, Policies.Agnostic]);
        var optimum = OfflineOptimum.Solve(scenario);

        foreach (var outcome in outcomes) ReplayInvariants.Check(scenario, outcome);
        var green = outcomes.ToDictionary(o => o.Result.Policy, o => o.Result.Scoreboard.GreenUsedMWh);
        Assert.True(green[Policies.Scheduler] > green[Policies.Agnostic], $"{name}: scheduler {green[Policies.Scheduler]:0.#} MWh green vs agnostic {green[Policies.Agnostic]:0.#}");
        foreach (var (policy, mwh) in green)
            Assert.True(optimum.Scoreboard.GreenUsedMWh >= mwh - 1e-6, $"{name}: {policy} used {mwh:0.#} MWh green, above the optimum's {optimum.Scoreboard.GreenUsedMWh:0.#}");
    }
}
