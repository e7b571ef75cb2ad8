namespace Scheduler.Core.Tests;

using CsCheck;
using Scheduler.Core.Accounting;
using Scheduler.Core.Model;
using Scheduler.Core.Policy;
using Scheduler.Core.Simulation;
using static Build;

/// <summary>The baselines a replay compares us with: named policies derived from one set of options.</summary>
public class PolicyPresetTests
{
    [Fact]
    public void ForPolicy_Scheduler_IsTheOptionsAsConfigured_AndUnknownNamesAreRefused()
    {
        var options = new PolicyOptions { RelocationMarginFactor = 2.5 };
        var ours = options.ForPolicy(PolicyOptions.SchedulerPolicy);
        Assert.Equal(2.5, ours.RelocationMarginFactor);
        Assert.True(ours.GreenAware && ours.UseForecast);
        var error = Assert.Throws<ArgumentException>(() => options.ForPolicy("fastest"));
        Assert.Contains("unknown policy 'fastest'", error.Message);
        Assert.All(PolicyOptions.PolicyNames, n => Assert.Empty(options.ForPolicy(n).Validate()));
    }

    [Fact]
    public void Agnostic_NeverRelocatesWaitsOrPausesForGreen_ForRandomFleets()
    {
        var agnostic = new PolicyOptions().ForPolicy(PolicyOptions.AgnosticPolicy);
        Gen.Int.Sample(seed =>
        {
            var fleet = DispatcherPropertyTests.RandomFleet(seed);
            var plan = new Dispatcher(agnostic).Decide(fleet);
            Assert.DoesNotContain(plan.Decisions, d => d.Kind == DecisionKind.Relocate);
            Assert.DoesNotContain(plan.Decisions, d => d.Reason is DecisionReasons.DeficitBeyondBattery or DecisionReasons.GreenSurplus);
            Assert.DoesNotContain(plan.Deferrals, d => d.Reason == DeferralReasons.WaitingForSurplus);
        }, iter: 500);
    }

    [Fact]
    public void Agnostic_StartsAJobAtOnce_AtTheLeastLoadedSite_EvenWithoutSurplus()
    {
        var sites = new[] { new SiteSnapshot(Site("a", gpus: 1000), 0, 0, 0), new SiteSnapshot(Site("b", gpus: 1000), 50, 0, 0) };
        var busy = Job("busy", gpus: 600, interruptible: false);
        var fleet = new FleetSnapshot(T0, sites, [], [Running(busy, "b"), Lifecycle.JobState.Queued(Job("j", gpus: 100))]);

        var agnostic = new Dispatcher(new PolicyOptions().ForPolicy(PolicyOptions.AgnosticPolicy)).Decide(fleet);
        var ours = new Dispatcher(new PolicyOptions()).Decide(fleet);

        // b has all the surplus but more load: carbon-blind placement picks a; ours picks b.
        var placed = Assert.Single(agnostic.Decisions);
        Assert.Equal(("a", DecisionReasons.CarbonBlind), (placed.ToSiteId, placed.Reason));
        Assert.Equal("b", Assert.Single(ours.Decisions).ToSiteId);
    }

    [Fact]
    public void Greedy_IgnoresTheForecast()
    {
        // Now both sites have the same surplus; the forecast says a's vanishes. Ours goes to b, greedy takes the first.
        ForecastPoint[] fading = [new(T0.AddHours(1), 0), new(T0.AddHours(6), 0)];
        ForecastPoint[] lasting = [new(T0.AddHours(1), 50), new(T0.AddHours(6), 50)];
        var sites = new[] { new SiteSnapshot(Site("a", gpus: 1000), 50, 0, 0, fading), new SiteSnapshot(Site("b", gpus: 1000), 50, 0, 0, lasting) };
        var fleet = new FleetSnapshot(T0, sites, [], [Lifecycle.JobState.Queued(Job("j", gpus: 100, workGpuHours: 600))]);

        Assert.Equal("b", Assert.Single(new Dispatcher(new PolicyOptions()).Decide(fleet).Decisions).ToSiteId);
        Assert.Equal("a", Assert.Single(new Dispatcher(new PolicyOptions().ForPolicy(PolicyOptions.GreedyPolicy)).Decide(fleet).Decisions).ToSiteId);
    }

    [Fact]
    public void OnARotatingSurplus_OursUsesMoreGreenEnergyThanAgnostic()
    {
        double Green(PolicyOptions options)
        {
            string[] ids = ["a", "b", "c"];
            var sites = ids.Select(id => Site(id, gpus: 1000, gridLimitMw: 2)).ToArray();
            var plants = ids.Select(id => new PlantSpec($"{id}-wind", PlantKind.Wind, 1.2, id)).ToArray();
            var sim = new FleetSimulator(sites, plants, FullMesh(sites), new ScenarioTests.RotatingSurplus(ids), new Dispatcher(options), T0, TimeSpan.FromMinutes(15));
            for (var i = 0; i < 6; i++)
                sim.Submit(Job($"j{i}", gpus: 150, workGpuHours: 150 * 20, interruptible: true, relocatable: true, checkpointGb: 50,
                    deadline: T0.AddHours(60)));
            while (sim.Now < T0.AddHours(60)) sim.Advance();
            var total = sim.JobLedgers.Values.Aggregate(default(EnergyLedger), (a, b) => a + b);
            return total.GreenMegawattHours + total.BatteryMegawattHours;
        }

        var ours = Green(new PolicyOptions());
        var agnostic = Green(new PolicyOptions().ForPolicy(PolicyOptions.AgnosticPolicy));
        Assert.True(ours > agnostic * 1.3, $"ours {ours:0.##} MWh green, agnostic {agnostic:0.##} MWh");
    }
}
