namespace Scheduler.Scenarios.Tests;

using Scheduler.Core.Model;
using Scheduler.Scenarios.Workload;

/// <summary>The three shipped scenarios load from the bundled data and keep <see cref="LoadedScenario"/>'s promises.</summary>
public sealed class ShippedScenarioTests
{
    [Theory]
    [InlineData("inner-mongolia", 21 * 24, 3)]
    [InlineData("great-plains", 8760, 3)]
    [InlineData("winter-stress", 21 * 24, 2)]
    public void ShippedScenario_Loads_WithItsStepsSitesAndSeries(string name, int steps, int sites)
    {
        var s = ScenarioCatalog.Load(name);

        Assert.Equal(name, s.Name);
        Assert.Equal(steps, s.Steps);
        Assert.Equal(TimeSpan.FromHours(1), s.Step);
        Assert.Equal(sites, s.Sites.Count);
        Assert.Equal(TimeSpan.Zero, s.Start.Offset);
        foreach (var plant in s.Plants)
        {
            var mw = s.PlantMegawatts[plant.Id];
            Assert.Equal(steps, mw.Length);
            Assert.All(mw, x => Assert.InRange(x, 0, plant.NameplateMegawatts));
            Assert.True(mw.Max() > 0.2 * plant.NameplateMegawatts, $"{plant.Id} never reaches a fifth of its nameplate");
        }
        foreach (var site in s.Sites)
        {
            Assert.Empty(site.Validate());
            Assert.Equal(steps, s.SiteCelsius[site.Id].Length);
            Assert.All(s.SiteCelsius[site.Id], c => Assert.InRange(c, -45, 50));
            Assert.Contains(s.Plants, p => p.SiteId == site.Id && p.Kind == PlantKind.Wind);
            Assert.Contains(s.Plants, p => p.SiteId == site.Id && p.Kind == PlantKind.Solar);
            Assert.Contains(s.Links, l => l.SiteA == site.Id || l.SiteB == site.Id);
        }
    }

    [Theory]
    [InlineData("inner-mongolia")]
    [InlineData("great-plains")]
    [InlineData("winter-stress")]
    public void ShippedScenario_Jobs_AreValidUniqueSortedInRangeAndFeasible(string name)
    {
        var s = ScenarioCatalog.Load(name);

        Assert.NotEmpty(s.Jobs);
        Assert.Equal(s.Jobs.Count, s.Jobs.Select(j => j.Id).Distinct(StringComparer.Ordinal).Count());
        Assert.Equal(ScenarioJobs.Sort(s.Jobs), s.Jobs);
        foreach (var j in s.Jobs)
        {
            Assert.Empty(j.Validate());
            Assert.InRange(j.Arrival, s.Start, s.End.AddTicks(-1));
            Assert.NotNull(j.Deadline);
            Assert.True(j.Deadline <= s.End, $"{j.Id}: deadline after the end");
            Assert.True(j.Arrival + TimeSpan.FromHours(j.DurationHours) <= j.Deadline.Value.AddSeconds(1), $"{j.Id}: cannot finish by its deadline");
            Assert.Contains(s.Sites, site => j.AllowsSite(site.Id) && site.GpuCount >= j.Gpus);
        }
    }

    [Fact]
    public void GreatPlains_HasAFullYearAndAtLeast5000Jobs()
    {
        var s = ScenarioCatalog.Load("great-plains");
        Assert.Equal(8760, s.Steps);
        Assert.Equal(new DateTimeOffset(2014, 1, 1, 7, 0, 0, TimeSpan.Zero), s.End);
        Assert.True(s.Jobs.Count >= 5000, $"{s.Jobs.Count} jobs");
    }

    [Fact]
    public void InnerMongolia_PinsInferenceToEachSite_AndMovesBatchJobs()
    {
        var s = ScenarioCatalog.Load("inner-mongolia");
        foreach (var site in s.Sites)
        {
            var pinned = s.Jobs.Where(j => j.AllowedSites.SequenceEqual([site.Id])).ToList();
            Assert.Equal(s.Steps, pinned.Count);
            Assert.All(pinned, j => Assert.True(j is { Interruptible: false, Relocatable: false, TokensPerGpuHour: > 0 }));
        }
        Assert.Contains(s.Jobs, j => j.Relocatable);
        Assert.Equal(["horinger", "ulanqab", "baotou"], s.Sites.Select(x => x.Id));
        Assert.Equal([300.0, 60, 250, 100, 200, 110], s.Plants.Select(p => p.NameplateMegawatts));
        Assert.Equal(259.2, s.Sites[0].Battery.CapacityMegawattHours);
    }

    [Fact]
    public void WinterStress_SolarNearlyVanishes()
    {
        var s = ScenarioCatalog.Load("winter-stress");
        var solar = s.Plants.Single(p => p.Id == "montana-solar");
        Assert.True(s.PlantMegawatts[solar.Id].Average() < 0.08 * solar.NameplateMegawatts);
    }

    [Fact]
    public void ShippedScenario_SameSeed_GivesSameJobs()
    {
        var a = ScenarioCatalog.Load("winter-stress");
        var b = ScenarioCatalog.Load("winter-stress");
        Assert.Equal(a.Jobs.Select(Key), b.Jobs.Select(Key));
        Assert.Equal(a.PlantMegawatts["montana-wind"], b.PlantMegawatts["montana-wind"]);
    }

    private static readonly string[] NoSites = [];

    /// <summary>Value text of a job; records compare their AllowedSites list by reference, so it is spelt out.</summary>
    private static string Key(JobSpec j) => $"{j with { AllowedSites = NoSites }}|{string.Join(',', j.AllowedSites)}";

    [Fact]
    public void Slice_KeepsTheStepsAndJobsOfAWindow()
    {
        var s = ScenarioCatalog.Load("winter-stress");
        var week = s.Slice(s.Start.AddDays(7), s.Start.AddDays(14));
        Assert.Equal(168, week.Steps);
        Assert.All(week.Jobs, j => Assert.InRange(j.Arrival, week.Start, week.End.AddTicks(-1)));
        Assert.Equal(s.PlantMegawatts["montana-wind"][168], week.PlantMegawatts["montana-wind"][0]);
    }
}
