namespace Scheduler.Host.Demo;

using Scheduler.Core.Model;

/// <summary>
/// The built-in fleet: three Inner Mongolia campuses sized from public figures. Horinger pairs ~300 MW wind + 60 MW
/// PV with a 64.8 MW / 259.2 MWh battery and consumes ~760 GWh/yr (~87 MW average); Ulanqab's zero-carbon base
/// self-consumes ~848 GWh/yr (~97 MW). Baotou-Guyang is sized alike. Grid power in North China is coal-heavy.
/// </summary>
public static class InnerMongoliaFleet
{
    public const string Region = "inner-mongolia";
    private const double KilowattsPerGpu = 1.2;         // H800-class server share per GPU, IT power
    private const double GridPriceCnyPerKwh = 0.45;
    private const double GridCarbonKgPerKwh = 0.85;

    public static IReadOnlyList<SiteSpec> Sites { get; } =
    [
        Site("horinger", baseLoadMw: 75, new BatterySpec(259.2, 64.8, 64.8, 0.88, 0.1, 0.95)),
        Site("ulanqab", baseLoadMw: 80, new BatterySpec(200, 50, 50, 0.88, 0.1, 0.95)),
        Site("baotou", baseLoadMw: 65, new BatterySpec(160, 40, 40, 0.88, 0.1, 0.95)),
    ];

    public static IReadOnlyList<PlantSpec> Plants { get; } =
    [
        new("horinger-wind", PlantKind.Wind, 300, "horinger"),
        new("horinger-solar", PlantKind.Solar, 60, "horinger"),
        new("ulanqab-wind", PlantKind.Wind, 250, "ulanqab"),
        new("ulanqab-solar", PlantKind.Solar, 100, "ulanqab"),
        new("baotou-wind", PlantKind.Wind, 200, "baotou"),
        new("baotou-solar", PlantKind.Solar, 110, "baotou"),
    ];

    /// <summary>Dedicated 100 Gbps links between the three campuses.</summary>
    public static IReadOnlyList<LinkSpec> Links { get; } =
    [
        new("horinger", "ulanqab", 100),
        new("horinger", "baotou", 100),
        new("ulanqab", "baotou", 100),
    ];

    private static SiteSpec Site(string id, double baseLoadMw, BatterySpec battery) =>
        new(id, Region, GpuCount: 20_000, KilowattsPerGpu, CoolingModel.ColdClimate, baseLoadMw, battery,
            GridImportLimitMegawatts: 120, GridPriceCnyPerKwh, GridCarbonKgPerKwh);
}
