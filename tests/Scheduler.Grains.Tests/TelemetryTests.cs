namespace Scheduler.Grains.Tests;

using Scheduler.Core.Model;

[Collection(ClusterCollection.Name)]
public class TelemetryTests(ClusterFixture fixture)
{
    public static TheoryData<string, double, double, string> BadSamples() => new()
    {
        { "not a number", double.NaN, 0, "megawatts" },
        { "infinite", double.PositiveInfinity, 0, "megawatts" },
        { "negative", -1, 0, "megawatts" },
        { "above nameplate × 1.1", 11.5, 0, "megawatts" },
        { "an hour in the future", 5, 60, "time" },
        { "older than the last sample", 5, -1, "time" },
    };

    [Theory]
    [MemberData(nameof(BadSamples))]
    public async Task Plant_RejectsABadSample_AndKeepsItsState(string name, double megawatts, double minutesFromNow, string field)
    {
        var fleet = new TestFleet(fixture);
        var site = await fleet.AddSiteAsync("s");
        Assert.True((await fleet.ReportAsync(site, 4)).Accepted);
        var plant = fleet.Client.GetGrain<IPlantGrain>(site + "-wind");
        var before = await plant.GetAsync();

        var verdict = await fleet.ReportAsync(site, megawatts, fleet.Now.AddMinutes(minutesFromNow));

        Assert.False(verdict.Accepted, name);
        Assert.Equal(field, verdict.Field);
        var after = await plant.GetAsync();
        Assert.Equal((before!.LastSampleAt, before.LastMegawatts, before.Accepted), (after!.LastSampleAt, after.LastMegawatts, after.Accepted));
        Assert.Equal(before.Rejected + 1, after.Rejected);
        Assert.Equal(4, (await fleet.Client.GetGrain<ISiteGrain>(site).GetAsync())!.GreenSupplyMegawatts);
    }

    [Fact]
    public async Task Plant_UnknownToTheFleet_IsRejected()
    {
        var verdict = await fixture.Client.GetGrain<IPlantGrain>("no-such-plant").ReportAsync(new GenerationSample(fixture.Time.GetUtcNow(), 1, null, []), DateTimeOffset.UtcNow);

        Assert.False(verdict.Accepted);
        Assert.Equal("plant_id", verdict.Field);
    }

    [Fact]
    public async Task Site_KeepsThePlantsNewestOutput_WhenAnOlderOneArrivesLater()
    {
        // A plant tells its site one-way, and Orleans does not order messages: an overtaken output must not win.
        var fleet = new TestFleet(fixture);
        var site = await fleet.AddSiteAsync("s");
        var grain = fleet.Client.GetGrain<ISiteGrain>(site);
        PlantOutput Output(double megawatts, DateTimeOffset at) => new(site + "-wind", at, megawatts, 10, 0.36, null, []);

        await grain.UpdatePlantOutputAsync(Output(6, fleet.Now));
        var status = (await grain.GetAsync())!;
        for (var wait = 0; status.Plants.Count == 0 && wait < 100; wait++, status = (await grain.GetAsync())!) await Task.Delay(50);
        Assert.Equal((fleet.Now, 6.0), (status.Plants.Single().At, status.Plants.Single().Megawatts));

        // The older output arrives after the newer one: whenever the site takes it, the newer one stays.
        await grain.UpdatePlantOutputAsync(Output(2, fleet.Now.AddSeconds(-1)));
        for (var read = 0; read < 20; read++, await Task.Delay(50))
        {
            status = (await grain.GetAsync())!;
            Assert.Equal((fleet.Now, 6.0), (status.Plants.Single().At, status.Plants.Single().Megawatts));
            Assert.Equal(6, status.GreenSupplyMegawatts);
        }
    }

    [Fact]
    public void APlantTellsItsSiteOneWay()
    {
        // Waiting for the site's answer cost every sample a second round trip; the site keeps the newest output instead.
        var update = typeof(ISiteGrain).GetMethod(nameof(ISiteGrain.UpdatePlantOutputAsync))!;
        Assert.True(update.IsDefined(typeof(Orleans.Concurrency.OneWayAttribute), inherit: false));
    }

    [Fact]
    public async Task Site_CountsASilentPlantAsZero()
    {
        var fleet = new TestFleet(fixture);
        var site = await fleet.AddSiteAsync("s");
        await fleet.ReportAsync(site, 4);
        Assert.Equal(4, (await fleet.Client.GetGrain<ISiteGrain>(site).GetAsync())!.GreenSupplyMegawatts);

        await fleet.TickAsync(TimeSpan.FromMinutes(31)); // the fixture's PlantStaleAfter is 30 minutes

        Assert.Equal(0, (await fleet.Client.GetGrain<ISiteGrain>(site).GetAsync())!.GreenSupplyMegawatts);
    }

    /// <summary>
    /// Plants configured together write their samples behind at their own points of the interval (half of
    /// PlantStaleAfter: 15 minutes here), not all at the same sample: the bench's 1,000 plants wrote 2.4 MB in one
    /// second of every minute, and decisions' writes queued behind it. Each still writes within one interval.
    /// </summary>
    [Fact]
    public async Task PlantsConfiguredTogether_WriteTheirSamplesBehind_AtDifferentTimes()
    {
        const int plants = 40;
        var fleet = new TestFleet(fixture);
        var site = await fleet.AddSiteAsync("s");
        var fleetGrain = fleet.Client.GetGrain<IFleetGrain>(IFleetGrain.Key);
        var grains = new List<IPlantGrain>();
        for (var i = 0; i < plants; i++)
        {
            var id = $"{site}-solar-{i}";
            await fleetGrain.UpsertPlantAsync(new PlantSpec(id, PlantKind.Solar, 10, site));
            grains.Add(fleet.Client.GetGrain<IPlantGrain>(id));
        }
        // A sample every 30 s for one interval after the first: from that first sample, each plant is due within it.
        var (writes, mostAtOneSample) = await fixture.CountWritesAsync<PlantGrainState>("plant", grains, rounds: 31, async _ =>
        {
            fixture.Time.Advance(TimeSpan.FromSeconds(30));
            foreach (var plant in grains)
                Assert.True((await plant.ReportAsync(new GenerationSample(fleet.Now, 5, null, []), DateTimeOffset.UtcNow)).Accepted);
        });
        // Spread over 30 samples, about 1.3 a sample; from the time they were configured, all 40 at one.
        Assert.True(mostAtOneSample <= plants / 4, $"{mostAtOneSample} of {plants} plants wrote at the same sample");
        Assert.All(writes, w => Assert.Equal(1, w));
    }
}
