namespace Scheduler.Api.Tests;

using Grpc.Core;
using Grpc.Health.V1;
using Scheduler.Api.V1;

[Collection(HostCollection.Name)]
public class FleetApiTests(HostFixture fixture)
{
    private FleetService.FleetServiceClient Fleet => new(fixture.Host.Channel);

    [Fact]
    public async Task Health_IsServing_OverGrpcAndHttp()
    {
        var grpc = await new Health.HealthClient(fixture.Host.Channel).CheckAsync(new HealthCheckRequest());
        using var http = new HttpClient();
        var response = await http.GetAsync($"http://127.0.0.1:{fixture.Host.HttpPort}/healthz");

        Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, grpc.Status);
        Assert.True(response.IsSuccessStatusCode);
    }

    [Fact]
    public async Task ListSites_ReturnsTheBuiltInFleet_AndGetSiteItsBalance()
    {
        var sites = await Fleet.ListSitesAsync(new ListSitesRequest());
        var site = await Fleet.GetSiteAsync(new GetSiteRequest { Id = "horinger" });

        Assert.Equal(["baotou", "horinger", "ulanqab"], sites.Sites.Select(s => s.Id));
        Assert.Equal("inner-mongolia", site.Site.Region);
        Assert.Equal(0, site.ExportMw);
        Assert.Equal(259.2, site.Site.Battery.CapacityMwh, 9);
        var plants = await Fleet.ListPlantsAsync(new ListPlantsRequest { SiteId = "horinger" });
        Assert.Equal(["horinger-solar", "horinger-wind"], plants.Plants.Select(p => p.Id));
    }

    [Fact]
    public async Task GetSite_UnknownSite_IsNotFound()
    {
        var (code, _) = await Rpc.FailsAsync(() => Fleet.GetSiteAsync(new GetSiteRequest { Id = "atlantis" }).ResponseAsync);
        Assert.Equal(StatusCode.NotFound, code);
    }

    [Fact]
    public async Task UpsertSite_NamesEveryBadField_AndChangesNothing()
    {
        var bad = new Site
        {
            Id = "bad site!", Region = "r", GpuCount = -1, KilowattsPerGpu = double.NaN,
            Battery = new Battery { CapacityMwh = 1, RoundTripEfficiency = 1.5, MinStateOfCharge = 0.1, MaxStateOfCharge = 0.9 },
        };

        var (code, fields) = await Rpc.FailsAsync(() => Fleet.UpsertSiteAsync(new UpsertSiteRequest { Site = bad }).ResponseAsync);

        Assert.Equal(StatusCode.InvalidArgument, code);
        Assert.Equal(["site.id", "site.gpu_count", "site.kilowatts_per_gpu", "site.battery.round_trip_efficiency"], fields);
        Assert.Equal(3, (await Fleet.ListSitesAsync(new ListSitesRequest())).Sites.Count);
    }

    [Fact]
    public async Task UpsertSite_AndUpsertPlant_AddToTheFleet()
    {
        // Its own host: a second region would change what the shared host's job tests may submit.
        await using var host = await SchedulerHost.StartFreshAsync();
        var fleet = new FleetService.FleetServiceClient(host.Channel);
        var site = new Site
        {
            Id = "test-site-" + Guid.NewGuid().ToString("N")[..6], Region = "test-region", GpuCount = 100, KilowattsPerGpu = 1,
            GridImportLimitMw = 5, GridPriceCnyPerKwh = 0.5, GridCarbonKgPerKwh = 0.8,
        };

        var created = await fleet.UpsertSiteAsync(new UpsertSiteRequest { Site = site });
        var plant = await fleet.UpsertPlantAsync(new UpsertPlantRequest { Plant = new Plant { Id = site.Id + "-pv", Kind = PlantKind.Solar, NameplateMw = 3, SiteId = site.Id } });
        var status = await fleet.GetSiteAsync(new GetSiteRequest { Id = site.Id });

        Assert.Equal(1.15, created.Cooling.FreeCoolingPue, 9); // no cooling given: the cold-climate default
        Assert.Equal(0.36, plant.GreenPriceCnyPerKwh, 9);       // no price given: the default green price
        Assert.Equal((100, 0), (status.Site.GpuCount, status.UsedGpus));
        Assert.Contains((await fleet.ListPlantsAsync(new ListPlantsRequest { SiteId = site.Id })).Plants, p => p.Id == plant.Id);
        Assert.Equal(4, (await fleet.ListSitesAsync(new ListSitesRequest())).Sites.Count);
    }

    [Fact]
    public async Task UpsertPlant_ForAnUnknownSite_IsInvalid()
    {
        var (code, fields) = await Rpc.FailsAsync(() => Fleet.UpsertPlantAsync(new UpsertPlantRequest
        {
            Plant = new Plant { Id = "p1", Kind = PlantKind.Wind, NameplateMw = 10, SiteId = "atlantis" },
        }).ResponseAsync);

        Assert.Equal(StatusCode.InvalidArgument, code);
        Assert.Equal(["plant.site_id"], fields);
    }

    [Fact]
    public async Task UpsertLink_ThenGetFleet_ShowsIt()
    {
        await Fleet.UpsertLinkAsync(new UpsertLinkRequest { Link = new Link { SiteA = "horinger", SiteB = "ulanqab", BandwidthGbps = 400 } });

        var fleet = await Fleet.GetFleetAsync(new GetFleetRequest());

        Assert.Contains(fleet.Links, l => l.SiteA == "horinger" && l.SiteB == "ulanqab" && l.BandwidthGbps == 400);
        Assert.Equal(3, fleet.Sites.Count);
        Assert.All(fleet.Sites, s => Assert.Equal(0, s.ExportMw));
        Assert.Equal(6, fleet.Plants.Count);
    }

    [Fact]
    public async Task UpsertLink_SameSiteTwice_IsInvalid()
    {
        var (code, fields) = await Rpc.FailsAsync(() => Fleet.UpsertLinkAsync(new UpsertLinkRequest
        {
            Link = new Link { SiteA = "horinger", SiteB = "horinger", BandwidthGbps = 0 },
        }).ResponseAsync);

        Assert.Equal(StatusCode.InvalidArgument, code);
        Assert.Equal(["link.site_b", "link.bandwidth_gbps"], fields);
    }
}
