namespace Scheduler.Grains.Tests;

using Scheduler.Core.Accounting;
using Scheduler.Core.Lifecycle;
using Scheduler.Core.Model;
using Scheduler.Core.Policy;

/// <summary>
/// A round decides on each site's supply as of the newest sample it knows of: the site's status (its last step) or a
/// rise or fall the site told of since, whichever came later.
/// </summary>
[Collection(ClusterCollection.Name)]
public class ToldSupplyTests(ClusterFixture fixture)
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 28, 9, 0, 0, TimeSpan.Zero);

    /// <summary>
    /// A site tells of a fall at once, and its step may have run before the sample came: the tick's own round must
    /// decide on the fall. Deciding on its steps' reports alone, it resumed at a site in a front the jobs a deficit
    /// round had just paused there. Here the site tells the dispatcher directly, as it does, of a sample no step saw.
    /// </summary>
    [Fact]
    public async Task TheTicksRound_DecidesOnAFallToldAfterTheSamplesItsStepsSaw()
    {
        var fleet = new TestFleet(fixture);
        var clouding = await fleet.AddSiteAsync("clouding");
        var sunny = await fleet.AddSiteAsync("sunny");
        await fleet.ReportAsync(clouding, 8);
        await fleet.ReportAsync(sunny, 5);
        await fleet.TickAsync(TimeSpan.FromMinutes(1));
        await fleet.SubmitAsync(fleet.Job("j", relocatable: true));
        await fleet.TickAsync(TimeSpan.FromSeconds(1));
        Assert.Equal(clouding, (await fleet.JobAsync("j")).State.SiteId);
        fixture.Time.Advance(new PolicyOptions().Cooldown);
        await fleet.ReportAsync(clouding, 8);
        await fleet.ReportAsync(sunny, 5);
        await fleet.TickAsync(TimeSpan.FromSeconds(1));
        Assert.Equal(JobStatus.Running, (await fleet.JobAsync("j")).State.Status);

        // Received after every sample the next steps will see: the site's status still says 8 MW. The call is one-way,
        // as when a site tells it, and may reach the dispatcher after the tick: then it is told again before the next.
        var dispatcher = fixture.Client.GetGrain<IDispatcherGrain>(fleet.Region);
        TickReport tick;
        var ticks = 0;
        do
        {
            await dispatcher.SupplyFellAsync(new SiteSupplyChange(clouding, 0, DateTimeOffset.UtcNow));
            await Task.Delay(50);
            tick = await fleet.TickAsync(TimeSpan.FromSeconds(1));
        }
        while (tick.Decisions.Count == 0 && ++ticks < 10);

        var moved = Assert.Single(tick.Decisions, d => d.JobId == fleet.Id("j"));
        Assert.Equal((DecisionKind.Relocate, sunny), (moved.Kind, moved.ToSiteId));
        Assert.Equal(8, Assert.Single(tick.Sites, s => s.Spec.Id == clouding).GreenSupplyMegawatts);
    }

    [Theory]
    // A fall told after the newest sample the step saw: the round sees the fall.
    [InlineData(1, 2, 3.0)]
    // The step ran after the sample that told the fall, or after a later one: the step's supply stands.
    [InlineData(2, 2, 40.0)]
    [InlineData(3, 2, 40.0)]
    public void TheNewerOfTheStepAndTheToldChange_GivesTheSupply(int newestSampleStepSawSeconds, int toldSampleSeconds, double expectedMegawatts)
    {
        var stepped = Status("s", 40, T0.AddSeconds(newestSampleStepSawSeconds - 1), T0.AddSeconds(newestSampleStepSawSeconds));
        var told = new Dictionary<string, SiteSupplyChange> { ["s"] = new("s", 3, T0.AddSeconds(toldSampleSeconds)) };

        var site = Assert.Single(DispatcherGrain.WithToldSupply([stepped], told));

        Assert.Equal(expectedMegawatts, site.GreenSupplyMegawatts);
        Assert.Equal(stepped with { GreenSupplyMegawatts = expectedMegawatts }, site);
    }

    [Fact]
    public void ASiteThatToldNothing_OrWhosePlantsCarryNoReceiptTime_IsTakenAsTold()
    {
        var quiet = Status("quiet", 40, T0);
        var unstamped = Status("unstamped", 40, (DateTimeOffset?)null);
        var told = new Dictionary<string, SiteSupplyChange> { ["unstamped"] = new("unstamped", 3, T0) };

        var sites = DispatcherGrain.WithToldSupply([quiet, unstamped], told);

        Assert.Equal([40.0, 3.0], sites.Select(s => s.GreenSupplyMegawatts));
    }

    private static SiteStatus Status(string id, double supplyMegawatts, params DateTimeOffset?[] plantsReceivedAt) =>
        new(new SiteSpec(id, "r", 64, 1.0, CoolingModel.Constant(1.0), 0, BatterySpec.None, 5, 0.5, 0.8), T0, supplyMegawatts, 1, 0, 0, 0, 0, 0, 20,
            [], default(EnergyLedger),
            [.. plantsReceivedAt.Select((at, i) => new PlantOutput($"p{i}", T0, supplyMegawatts / plantsReceivedAt.Length, 50, 0.3, null, [], ReceivedAt: at))],
            [], TimeSpan.FromMinutes(5));
}
