namespace Scheduler.Replay.Tests;

using Scheduler.Api.V1;
using Scheduler.Replay.Driver;
using Scheduler.Scenarios;

/// <summary>What every replay must satisfy, whatever the scenario and policy.</summary>
internal static class ReplayInvariants
{
    public static void Check(LoadedScenario scenario, PolicyOutcome outcome)
    {
        var result = outcome.Result;
        var name = result.Policy;
        var hours = scenario.Step.TotalHours;

        foreach (var site in result.Sites)
            for (var i = 0; i < scenario.Steps; i++)
            {
                // Never a flow back into the public grid, and green + battery + grid = load + curtailment, every step.
                Assert.True(site.ExportMegawatts[i] == 0, $"{name}: {site.SiteId} step {i} exported/leaked {site.ExportMegawatts[i]} MW");
                // The power balance ran on what the plants reported for that step.
                Assert.True(Math.Abs(site.GreenMegawatts[i] - scenario.SiteGreenMegawatts(site.SiteId, i)) < 1e-6,
                    $"{name}: {site.SiteId} step {i} balanced {site.GreenMegawatts[i]} MW of green, the plants reported {scenario.SiteGreenMegawatts(site.SiteId, i)}");
            }
        Assert.Equal(0, result.Scoreboard.ExportMWh);

        // No job at two sites at once.
        foreach (var job in result.Stints.GroupBy(s => s.JobId))
        {
            var stints = job.OrderBy(s => s.FromStep).ToList();
            for (var k = 1; k < stints.Count; k++)
                Assert.True(stints[k].FromStep >= stints[k - 1].ToStep, $"{name}: {job.Key} at {stints[k - 1].SiteId} and {stints[k].SiteId} in step {stints[k].FromStep}");
        }

        // Every completed job did all its work: nothing left, and it held its GPUs long enough for it.
        var specs = scenario.Jobs.ToDictionary(j => j.Id);
        var ran = result.Stints.GroupBy(s => s.JobId).ToDictionary(g => g.Key, g => g.Sum(s => s.ToStep - s.FromStep) * hours);
        foreach (var (id, job) in outcome.Jobs.Where(j => j.Value.State == JobState.Completed))
        {
            Assert.Equal(0, job.RemainingGpuHours, 9);
            var need = specs[id].WorkGpuHours / specs[id].Gpus;
            Assert.True(ran.GetValueOrDefault(id) >= need - 1e-9, $"{name}: {id} completed after running {ran.GetValueOrDefault(id)} h of the {need} h it needs");
        }
        Assert.Equal(outcome.Jobs.Count(j => j.Value.State == JobState.Completed), result.Scoreboard.CompletedJobs);
    }
}
