namespace Scheduler.Core.Model;

/// <summary>A data-center campus fed point to point by its own plants. Immutable configuration.</summary>
/// <param name="Id">Stable site id, e.g. <c>horinger</c>.</param>
/// <param name="Region">Dispatch region the site belongs to (one dispatcher per region).</param>
/// <param name="GpuCount">GPUs available to flexible jobs.</param>
/// <param name="KilowattsPerGpu">IT power of one GPU at full load, including its share of host and network, kW.</param>
/// <param name="Cooling">PUE as a function of outside temperature.</param>
/// <param name="BaseLoadMegawatts">Non-flexible IT load that always runs (storage, inference pinned here), MW, before PUE.</param>
/// <param name="Battery">The site's battery.</param>
/// <param name="GridImportLimitMegawatts">Most the site may draw from the public grid, MW. Export is never allowed.</param>
/// <param name="GridPriceCnyPerKilowattHour">Price of grid energy, CNY/kWh.</param>
/// <param name="GridCarbonKgPerKilowattHour">Carbon intensity of grid energy, kg CO2/kWh.</param>
public sealed record SiteSpec(
    string Id,
    string Region,
    int GpuCount,
    double KilowattsPerGpu,
    CoolingModel Cooling,
    double BaseLoadMegawatts,
    BatterySpec Battery,
    double GridImportLimitMegawatts,
    double GridPriceCnyPerKilowattHour,
    double GridCarbonKgPerKilowattHour)
{
    /// <summary>Facility power of <paramref name="gpus"/> GPUs at full load, MW, at the given outside temperature.</summary>
    public double GpuPowerMegawatts(int gpus, double outsideCelsius) =>
        gpus * KilowattsPerGpu / 1000.0 * Cooling.PueAt(outsideCelsius);

    /// <summary>Facility power of the base load, MW.</summary>
    public double BaseLoadFacilityMegawatts(double outsideCelsius) => BaseLoadMegawatts * Cooling.PueAt(outsideCelsius);

    /// <summary>Returns the list of configuration errors (empty when valid).</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (string.IsNullOrWhiteSpace(Id)) errors.Add("id: must not be empty");
        if (string.IsNullOrWhiteSpace(Region)) errors.Add("region: must not be empty");
        if (GpuCount is < 0 or > Limits.MaxGpus) errors.Add($"gpu_count: must be within [0, {Limits.MaxGpus}]");
        if (!(KilowattsPerGpu > 0) || !Limits.Within(KilowattsPerGpu, 0, Limits.MaxKilowattsPerGpu)) errors.Add($"kilowatts_per_gpu: must be > 0, at most {Limits.MaxKilowattsPerGpu}");
        if (!Limits.Within(BaseLoadMegawatts, 0, Limits.MaxMegawatts)) errors.Add($"base_load_megawatts: must be within [0, {Limits.MaxMegawatts}]");
        if (!Limits.Within(GridImportLimitMegawatts, 0, Limits.MaxMegawatts)) errors.Add($"grid_import_limit_megawatts: must be within [0, {Limits.MaxMegawatts}]");
        if (!Limits.Within(GridPriceCnyPerKilowattHour, 0, Limits.MaxPriceCnyPerKilowattHour)) errors.Add($"grid_price_cny_per_kilowatt_hour: must be within [0, {Limits.MaxPriceCnyPerKilowattHour}]");
        if (!Limits.Within(GridCarbonKgPerKilowattHour, 0, Limits.MaxCarbonKgPerKilowattHour)) errors.Add($"grid_carbon_kg_per_kilowatt_hour: must be within [0, {Limits.MaxCarbonKgPerKilowattHour}]");
        errors.AddRange(Cooling.Validate().Select(e => "cooling." + e));
        errors.AddRange(Battery.Validate().Select(e => "battery." + e));
        return errors;
    }
}

/// <summary>
/// PUE model: free cooling below <see cref="FreeCoolingBelowCelsius"/> gives <see cref="FreeCoolingPue"/>;
/// above it PUE rises linearly to <see cref="MechanicalPue"/> over <see cref="RampCelsius"/> degrees and stays there.
/// Hohhot (mean 7.7 °C) free-cools about half the year with a threshold near 10 °C.
/// </summary>
public sealed record CoolingModel(double FreeCoolingPue, double MechanicalPue, double FreeCoolingBelowCelsius, double RampCelsius)
{
    /// <summary>A cold-climate default: PUE 1.15 when free cooling, 1.35 on chillers, threshold 10 °C, 10 °C ramp.</summary>
    public static CoolingModel ColdClimate { get; } = new(1.15, 1.35, 10, 10);

    /// <summary>Constant PUE (no weather dependence), useful in tests.</summary>
    public static CoolingModel Constant(double pue) => new(pue, pue, 0, 1);

    /// <summary>PUE at the given outside temperature, °C.</summary>
    public double PueAt(double outsideCelsius)
    {
        if (double.IsNaN(outsideCelsius) || outsideCelsius <= FreeCoolingBelowCelsius) return FreeCoolingPue;
        var f = Math.Min(1.0, (outsideCelsius - FreeCoolingBelowCelsius) / RampCelsius);
        return FreeCoolingPue + f * (MechanicalPue - FreeCoolingPue);
    }

    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (!Limits.Within(FreeCoolingPue, 1, Limits.MaxPue)) errors.Add($"free_cooling_pue: must be within [1, {Limits.MaxPue}]");
        if (!(MechanicalPue >= FreeCoolingPue) || !Limits.Within(MechanicalPue, 1, Limits.MaxPue)) errors.Add($"mechanical_pue: must be >= free_cooling_pue, at most {Limits.MaxPue}");
        if (!Limits.Within(FreeCoolingBelowCelsius, -Limits.MaxCelsius, Limits.MaxCelsius)) errors.Add($"free_cooling_below_celsius: must be within [{-Limits.MaxCelsius}, {Limits.MaxCelsius}]");
        if (!(RampCelsius > 0) || !Limits.Within(RampCelsius, 0, Limits.MaxCelsius)) errors.Add($"ramp_celsius: must be > 0, at most {Limits.MaxCelsius}");
        return errors;
    }
}

/// <summary>A site battery. State of charge bounds are fractions of <see cref="CapacityMegawattHours"/>.</summary>
/// <param name="CapacityMegawattHours">Usable nameplate energy, MWh.</param>
/// <param name="MaxChargeMegawatts">Most power into the battery, MW (measured at the bus).</param>
/// <param name="MaxDischargeMegawatts">Most power out of the battery, MW (measured at the bus).</param>
/// <param name="RoundTripEfficiency">Fraction of charged energy that comes back; split evenly (square root) between charge and discharge.</param>
/// <param name="MinStateOfCharge">Lowest allowed state of charge, fraction 0..1.</param>
/// <param name="MaxStateOfCharge">Highest allowed state of charge, fraction 0..1.</param>
public sealed record BatterySpec(
    double CapacityMegawattHours,
    double MaxChargeMegawatts,
    double MaxDischargeMegawatts,
    double RoundTripEfficiency,
    double MinStateOfCharge,
    double MaxStateOfCharge)
{
    /// <summary>No battery at all.</summary>
    public static BatterySpec None { get; } = new(0, 0, 0, 1, 0, 1);

    public double ChargeEfficiency => Math.Sqrt(RoundTripEfficiency);
    public double DischargeEfficiency => Math.Sqrt(RoundTripEfficiency);
    public double MinEnergyMegawattHours => MinStateOfCharge * CapacityMegawattHours;
    public double MaxEnergyMegawattHours => MaxStateOfCharge * CapacityMegawattHours;

    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (!Limits.Within(CapacityMegawattHours, 0, Limits.MaxMegawattHours)) errors.Add($"capacity_megawatt_hours: must be within [0, {Limits.MaxMegawattHours}]");
        if (!Limits.Within(MaxChargeMegawatts, 0, Limits.MaxMegawatts)) errors.Add($"max_charge_megawatts: must be within [0, {Limits.MaxMegawatts}]");
        if (!Limits.Within(MaxDischargeMegawatts, 0, Limits.MaxMegawatts)) errors.Add($"max_discharge_megawatts: must be within [0, {Limits.MaxMegawatts}]");
        if (!(RoundTripEfficiency > 0 && RoundTripEfficiency <= 1)) errors.Add("round_trip_efficiency: must be in (0, 1]");
        if (!(MinStateOfCharge >= 0 && MinStateOfCharge <= MaxStateOfCharge && MaxStateOfCharge <= 1))
            errors.Add("state_of_charge: need 0 <= min <= max <= 1");
        return errors;
    }
}
