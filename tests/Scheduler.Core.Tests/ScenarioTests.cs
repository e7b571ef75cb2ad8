namespace Scheduler.Core.Tests;

using Scheduler.Core.Accounting;
using Scheduler.Core.Lifecycle;
using Scheduler.Core.Model;
using Scheduler.Core.Policy;
using Scheduler.Core.Simulation;
using static Build;

/// <summary>Three sites whose surplus rotates every 8 hours: jobs should follow it, and come back, without flapping.</summary>
public class ScenarioTests
{
    /// <summary>Site i has 1.2 MW of green from hour 8i to 8i+8 of each day, else 0.1 MW.</summary>
    internal sealed class RotatingSurplus(string[] siteIds) : ISiteConditions
    {
        public double GreenSupplyMegawatts(string siteId, DateTimeOffset at)
        {
            var i = Array.IndexOf(siteIds, siteId);
            var hour = (at - T0).TotalHours % 24;
            return hour >= 8 * i && hour < 8 * (i + 1) ? 1.2 : 0.1;
        }

        public double OutsideCelsius(string siteId, DateTimeOffset at) => 0;
    }

    private static (FleetSimulator Sim, List<Decision> Decisions, List<SimulationStep> Steps) Run(PolicyOptions options, TimeSpan duration)
    {
        string[] ids = ["a", "b", "c"];
        var sites = ids.Select(id => Site(id, gpus: 1000, gridLimitMw: 2)).ToArray();
        var plants = ids.Select(id => new PlantSpec($"{id}-wind", PlantKind.Wind, 1.2, id)).ToArray();
        var sim = new FleetSimulator(sites, plants, FullMesh(sites), new RotatingSurplus(ids), new Dispatcher(options), T0, TimeSpan.FromMinutes(15));
        // Six steady 150-GPU jobs (0.9 MW together): relocatable, not interruptible, 40 h of work each.
        for (var i = 0; i < 6; i++)
            sim.Submit(Job($"j{i}", gpus: 150, workGpuHours: 150 * 40, interruptible: false, relocatable: true, checkpointGb: 50));
        var steps = new List<SimulationStep>();
        while (sim.Now < T0 + duration) steps.Add(sim.Advance());
        return (sim, [.. steps.SelectMany(s => s.Plan.Decisions)], steps);
    }

    [Fact]
    public void JobsFollowTheRotatingSurplus_AndComeBack_WithoutFlapping()
    {
        var (sim, decisions, steps) = Run(new PolicyOptions(), TimeSpan.FromHours(48));

        foreach (var job in sim.Jobs.Values)
        {
            var mine = decisions.Where(d => d.JobId == job.Id).ToList();
            var visits = mine.Select(d => d.ToSiteId).ToList();
            // Placed at the site in surplus, then moved on with the surplus: a→b→c→a…
            Assert.Equal("a", visits[0]);
            Assert.Equal(["a", "b", "c", "a", "b", "c"], visits.Take(6));
            Assert.All(mine.Skip(1), d => Assert.Equal(DecisionKind.Relocate, d.Kind));
            // No flapping: at most one move per 8-hour surplus shift, never two moves within the cooldown.
            Assert.True(mine.Count(d => d.Kind == DecisionKind.Relocate) <= 48 / 8, $"{job.Id}: {mine.Count} moves");
            Assert.Equal(JobStatus.Completed, job.Status);
        }
        // Every site step balanced, exported nothing and served all load.
        Assert.All(steps.SelectMany(s => s.Sites.Values), r =>
        {
            Assert.Equal(0, r.Balance.ExportMegawatts);
            Assert.Equal(r.LoadMegawatts, r.Balance.ServedLoadMegawatts, 9);
        });
    }

    [Fact]
    public void Relocation_RaisesTheGreenShare_OverStayingPut()
    {
        var (moving, _, _) = Run(new PolicyOptions(), TimeSpan.FromHours(36));
        var (staying, stayDecisions, _) = Run(new PolicyOptions { RelocationMarginFactor = 1e12 }, TimeSpan.FromHours(36));

        Assert.DoesNotContain(stayDecisions, d => d.Kind == DecisionKind.Relocate);
        var share = (FleetSimulator s) => s.JobLedgers.Values.Aggregate(default(EnergyLedger), (a, b) => a + b).GreenShare;
        Assert.True(share(moving) > share(staying) + 0.3, $"green share moving {share(moving):P1}, staying {share(staying):P1}");
    }
}
