namespace Scheduler.Api.Services;

using Grpc.Core;
using Scheduler.Api.V1;
using EnergyLedger = Scheduler.Core.Accounting.EnergyLedger;
using Scheduler.Grains;
using SiteStatus = Scheduler.Api.V1.SiteStatus;

/// <summary>Operators configure sites, plants and links, and read the live power balance and the energy ledger.</summary>
internal sealed class FleetGrpcService(IGrainFactory grains, SchedulerClock clock) : FleetService.FleetServiceBase
{
    private IFleetGrain Fleet => grains.Get<IFleetGrain>(IFleetGrain.Key);

    public override async Task<Site> UpsertSite(UpsertSiteRequest request, ServerCallContext context)
    {
        var check = new RequestValidation();
        if (request.Site is not { } site) { check.Add("site", "required").ThrowIfInvalid(); return null!; }
        check.Id(site.Id, "site.id").Id(site.Region, "site.region")
            .AddCore(site.ToModel().Validate().Where(e => !e.StartsWith("id:", StringComparison.Ordinal) && !e.StartsWith("region:", StringComparison.Ordinal)), "site.")
            .ThrowIfInvalid();
        await Fleet.UpsertSiteAsync(site.ToModel()).WaitAsync(context.CancellationToken);
        return site.ToModel().ToProto();
    }

    public override async Task<ListSitesResponse> ListSites(ListSitesRequest request, ServerCallContext context)
    {
        var config = await Fleet.GetConfigAsync().WaitAsync(context.CancellationToken);
        return new ListSitesResponse { Sites = { config.Sites.Select(s => s.ToProto()) } };
    }

    public override async Task<SiteStatus> GetSite(GetSiteRequest request, ServerCallContext context)
    {
        new RequestValidation().Id(request.Id, "id").ThrowIfInvalid();
        var config = await Fleet.GetConfigAsync().WaitAsync(context.CancellationToken);
        if (config.Sites.All(s => s.Id != request.Id)) throw new RpcException(new Status(StatusCode.NotFound, $"no site '{request.Id}'"));
        var status = await grains.Get<ISiteGrain>(request.Id).GetAsync().WaitAsync(context.CancellationToken)
            ?? throw new RpcException(new Status(StatusCode.NotFound, $"no site '{request.Id}'"));
        return status.ToProto(clock.GetUtcNow());
    }

    public override async Task<Plant> UpsertPlant(UpsertPlantRequest request, ServerCallContext context)
    {
        var check = new RequestValidation();
        if (request.Plant is not { } plant) { check.Add("plant", "required").ThrowIfInvalid(); return null!; }
        var config = await Fleet.GetConfigAsync().WaitAsync(context.CancellationToken);
        check.Id(plant.Id, "plant.id").Id(plant.SiteId, "plant.site_id")
            .Check(plant.Kind != PlantKind.Unspecified, "plant.kind", "must be PLANT_KIND_WIND or PLANT_KIND_SOLAR")
            .Check(plant.SiteId.Length == 0 || config.Sites.Any(s => s.Id == plant.SiteId), "plant.site_id", $"no site '{plant.SiteId}'")
            .AddCore(plant.ToModel().Validate().Where(e => !e.StartsWith("id:", StringComparison.Ordinal) && !e.StartsWith("site_id:", StringComparison.Ordinal)), "plant.")
            .ThrowIfInvalid();
        await Fleet.UpsertPlantAsync(plant.ToModel()).WaitAsync(context.CancellationToken);
        return plant.ToModel().ToProto();
    }

    public override async Task<ListPlantsResponse> ListPlants(ListPlantsRequest request, ServerCallContext context)
    {
        new RequestValidation().Id(request.SiteId, "site_id", required: false).ThrowIfInvalid();
        var config = await Fleet.GetConfigAsync().WaitAsync(context.CancellationToken);
        return new ListPlantsResponse { Plants = { config.Plants.Where(p => request.SiteId.Length == 0 || p.SiteId == request.SiteId).Select(p => p.ToProto()) } };
    }

    public override async Task<Link> UpsertLink(UpsertLinkRequest request, ServerCallContext context)
    {
        var check = new RequestValidation();
        if (request.Link is not { } link) { check.Add("link", "required").ThrowIfInvalid(); return null!; }
        var config = await Fleet.GetConfigAsync().WaitAsync(context.CancellationToken);
        check.Id(link.SiteA, "link.site_a").Id(link.SiteB, "link.site_b")
            .Check(link.SiteA.Length == 0 || config.Sites.Any(s => s.Id == link.SiteA), "link.site_a", $"no site '{link.SiteA}'")
            .Check(link.SiteB.Length == 0 || config.Sites.Any(s => s.Id == link.SiteB), "link.site_b", $"no site '{link.SiteB}'")
            .Check(link.SiteA != link.SiteB, "link.site_b", "must differ from site_a")
            .Finite(link.BandwidthGbps, "link.bandwidth_gbps", double.Epsilon)
            .ThrowIfInvalid();
        var model = new Core.Model.LinkSpec(link.SiteA, link.SiteB, link.BandwidthGbps);
        await Fleet.UpsertLinkAsync(model).WaitAsync(context.CancellationToken);
        return model.ToProto();
    }

    public override async Task<V1.Fleet> GetFleet(GetFleetRequest request, ServerCallContext context)
    {
        var config = await Fleet.GetConfigAsync().WaitAsync(context.CancellationToken);
        var statuses = await Task.WhenAll(config.Sites.Select(s => grains.Get<ISiteGrain>(s.Id).GetAsync())).WaitAsync(context.CancellationToken);
        var now = clock.GetUtcNow();
        return new V1.Fleet
        {
            Time = now.ToProto(),
            Sites = { statuses.OfType<Grains.SiteStatus>().Select(s => s.ToProto(now)) },
            Plants = { config.Plants.Select(p => p.ToProto()) },
            Links = { config.Links.Select(l => l.ToProto()) },
        };
    }

    public override async Task<EnergyReport> GetEnergyReport(GetEnergyReportRequest request, ServerCallContext context)
    {
        var config = await Fleet.GetConfigAsync().WaitAsync(context.CancellationToken);
        var regions = config.Sites.Select(s => s.Region).Distinct().Order(StringComparer.Ordinal);
        var jobs = (await Task.WhenAll(regions.Select(r => grains.Get<IDispatcherGrain>(r).GetSummariesAsync())).WaitAsync(context.CancellationToken))
            .SelectMany(x => x).ToList();
        var sites = (await Task.WhenAll(config.Sites.Select(s => grains.Get<ISiteGrain>(s.Id).GetAsync())).WaitAsync(context.CancellationToken))
            .OfType<Grains.SiteStatus>().ToList();

        static EnergyLine Line(string key, EnergyLedger l) => new() { Key = key, Ledger = l.ToProto() };
        static EnergyLedger Sum(IEnumerable<EnergyLedger> ledgers) => ledgers.Aggregate(default(EnergyLedger), (a, b) => a + b);
        return new EnergyReport
        {
            Jobs = { jobs.Select(j => Line(j.State.Id, j.Ledger)) },
            Sites = { sites.Select(s => Line(s.Spec.Id, s.Ledger)) },
            Tenants = { jobs.GroupBy(j => j.State.Spec.TenantId).OrderBy(g => g.Key, StringComparer.Ordinal).Select(g => Line(g.Key, Sum(g.Select(j => j.Ledger)))) },
            TotalJobs = Sum(jobs.Select(j => j.Ledger)).ToProto(),
            TotalSites = Sum(sites.Select(s => s.Ledger)).ToProto(),
        };
    }
}
