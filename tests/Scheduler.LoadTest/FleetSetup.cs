namespace Scheduler.LoadTest;

using System.Diagnostics;
using Scheduler.Api.V1;

/// <summary>One load plant: its id, nameplate, site and the last timestamp sent for it (samples must be strictly increasing).</summary>
internal sealed class LoadPlant(string id, double nameplateMw, int index, int siteIndex)
{
    public string Id { get; } = id;
    public double NameplateMw { get; } = nameplateMw;
    public int Index { get; } = index;
    /// <summary>Its site's place in <see cref="LoadFleet.SiteIds"/>.</summary>
    public int SiteIndex { get; } = siteIndex;
    public DateTimeOffset LastSentAt { get; set; } = DateTimeOffset.MinValue;

    /// <summary>The load fleet's plants: 20-60 MW each, dealt to the sites in turn.</summary>
    public static List<LoadPlant> Fleet(int plants, int sites) =>
        [.. Enumerable.Range(0, plants).Select(i => new LoadPlant($"load-p{i:D5}", 20 + i % 5 * 10, i, i % sites))];
}

/// <summary>The load fleet: <c>Sites</c> sites in region "load", chained by links, and the plants spread over them.</summary>
internal sealed record LoadFleet(IReadOnlyList<string> SiteIds, IReadOnlyList<LoadPlant> Plants)
{
    public const string Region = "load";
}

internal sealed record SetupResult(int Sites, int Plants, int Links, double Seconds, double UpsertsPerSecond, int FleetSitesAfter, int FleetPlantsAfter);

/// <summary>Scenario 1: configures the load fleet through the public FleetService, the way an operator would.</summary>
internal static class FleetSetup
{
    private const int Concurrency = 8;

    public static async Task<(LoadFleet Fleet, SetupResult Result)> RunAsync(LoadHost host, int siteCount, int plantCount, CancellationToken cancellation)
    {
        using var channel = host.NewChannel();
        var client = new FleetService.FleetServiceClient(channel);
        var siteIds = Enumerable.Range(0, siteCount).Select(i => $"load-s{i:D4}").ToList();
        var plants = LoadPlant.Fleet(plantCount, siteCount);
        var links = Enumerable.Range(0, siteCount - 1).Select(i => new Link { SiteA = siteIds[i], SiteB = siteIds[i + 1], BandwidthGbps = 100 }).ToList();

        long done = 0;
        var total = siteCount + plantCount + links.Count;
        var started = Stopwatch.GetTimestamp();
        await using (new ProgressTicker("setup", () => Interlocked.Read(ref done), "upserts", () => $"of {total}"))
        {
            var parallel = new ParallelOptions { MaxDegreeOfParallelism = Concurrency, CancellationToken = cancellation };
            await Parallel.ForEachAsync(siteIds, parallel, async (id, ct) =>
            {
                await client.UpsertSiteAsync(new UpsertSiteRequest { Site = Site(id) }, cancellationToken: ct);
                Interlocked.Increment(ref done);
            });
            await Parallel.ForEachAsync(plants, parallel, async (plant, ct) =>
            {
                await client.UpsertPlantAsync(new UpsertPlantRequest
                {
                    Plant = new Plant
                    {
                        Id = plant.Id, Kind = plant.Index % 2 == 0 ? PlantKind.Wind : PlantKind.Solar,
                        NameplateMw = plant.NameplateMw, SiteId = siteIds[plant.SiteIndex],
                    },
                }, cancellationToken: ct);
                Interlocked.Increment(ref done);
            });
            await Parallel.ForEachAsync(links, parallel, async (link, ct) =>
            {
                await client.UpsertLinkAsync(new UpsertLinkRequest { Link = link }, cancellationToken: ct);
                Interlocked.Increment(ref done);
            });
        }
        var seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;

        var sitesAfter = (await client.ListSitesAsync(new ListSitesRequest(), cancellationToken: cancellation)).Sites.Count;
        var plantsAfter = (await client.ListPlantsAsync(new ListPlantsRequest(), cancellationToken: cancellation)).Plants.Count;
        return (new LoadFleet(siteIds, plants), new SetupResult(siteCount, plantCount, links.Count, seconds, total / seconds, sitesAfter, plantsAfter));
    }

    /// <summary>A small campus: 2,000 GPUs, a modest battery and grid connection, cold-climate cooling.</summary>
    private static Site Site(string id) => new()
    {
        Id = id, Region = LoadFleet.Region, GpuCount = 2_000, KilowattsPerGpu = 1.2, BaseLoadMw = 5,
        Cooling = new Cooling { FreeCoolingPue = 1.15, MechanicalPue = 1.35, FreeCoolingBelowCelsius = 10, RampCelsius = 10 },
        Battery = new Battery { CapacityMwh = 40, MaxChargeMw = 10, MaxDischargeMw = 10, RoundTripEfficiency = 0.88, MinStateOfCharge = 0.1, MaxStateOfCharge = 0.95 },
        GridImportLimitMw = 20, GridPriceCnyPerKwh = 0.45, GridCarbonKgPerKwh = 0.85,
    };
}
