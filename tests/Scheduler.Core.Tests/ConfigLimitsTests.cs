namespace Scheduler.Core.Tests;

using Scheduler.Core.Model;
using static Build;

/// <summary>
/// A finite but absurd configuration value would overflow the energy and cost sums to infinity, which stored state
/// cannot hold: it is refused, naming the field. (The API fuzz test found one: a site with a price of 1e300 failed
/// its next write with an UNKNOWN status.)
/// </summary>
public class ConfigLimitsTests
{
    public static TheoryData<string, Func<SiteSpec, SiteSpec>> AbsurdSites => new()
    {
        { "gpu_count", s => s with { GpuCount = int.MaxValue } },
        { "kilowatts_per_gpu", s => s with { KilowattsPerGpu = 1e300 } },
        { "base_load_megawatts", s => s with { BaseLoadMegawatts = double.MaxValue } },
        { "grid_import_limit_megawatts", s => s with { GridImportLimitMegawatts = 1e300 } },
        { "grid_price_cny_per_kilowatt_hour", s => s with { GridPriceCnyPerKilowattHour = double.PositiveInfinity } },
        { "grid_carbon_kg_per_kilowatt_hour", s => s with { GridCarbonKgPerKilowattHour = 1e300 } },
        { "cooling.free_cooling_pue", s => s with { Cooling = new CoolingModel(1e300, 1e300, 10, 10) } },
        { "cooling.free_cooling_below_celsius", s => s with { Cooling = new CoolingModel(1.1, 1.3, double.NaN, 10) } },
        { "cooling.ramp_celsius", s => s with { Cooling = new CoolingModel(1.1, 1.3, 10, double.PositiveInfinity) } },
        { "battery.capacity_megawatt_hours", s => s with { Battery = Battery() with { CapacityMegawattHours = 1e300 } } },
        { "battery.max_charge_megawatts", s => s with { Battery = Battery() with { MaxChargeMegawatts = double.MaxValue } } },
    };

    [Theory]
    [MemberData(nameof(AbsurdSites))]
    public void ASiteWithAnAbsurdValue_IsRefused_ByThatField(string field, Func<SiteSpec, SiteSpec> spoil)
    {
        Assert.Empty(Site("s").Validate());
        Assert.Contains(spoil(Site("s")).Validate(), e => e.StartsWith(field + ":", StringComparison.Ordinal));
    }

    [Fact]
    public void APlantWithAnAbsurdNameplateOrPrice_IsRefused()
    {
        var plant = new PlantSpec("p", PlantKind.Wind, 10, "s");
        Assert.Empty(plant.Validate());
        Assert.Contains((plant with { NameplateMegawatts = 1e300 }).Validate(), e => e.StartsWith("nameplate_megawatts:", StringComparison.Ordinal));
        Assert.Contains((plant with { GreenPriceCnyPerKilowattHour = 1e300 }).Validate(), e => e.StartsWith("green_price_cny_per_kilowatt_hour:", StringComparison.Ordinal));
    }
}
