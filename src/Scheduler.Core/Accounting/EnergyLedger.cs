namespace Scheduler.Core.Accounting;

/// <summary>
/// Energy, money, carbon and tokens accumulated by a job or a site. Battery energy was charged from green surplus,
/// so it is green in origin: it is priced at the green price and emits no CO2.
/// </summary>
public readonly record struct EnergyLedger(
    double GreenMegawattHours,
    double BatteryMegawattHours,
    double GridMegawattHours,
    double CurtailedMegawattHours,
    double RelocationMegawattHours,
    double CostCny,
    double Co2EmittedKg,
    double Co2AvoidedKg,
    double Tokens,
    int Relocations,
    double RelocatedGigabytes)
{
    /// <summary>Energy delivered to compute, from every source, MWh.</summary>
    public double ComputeMegawattHours => GreenMegawattHours + BatteryMegawattHours + GridMegawattHours;

    /// <summary>Green (direct or via battery) share of compute energy, 0..1; 0 when nothing ran.</summary>
    public double GreenShare => ComputeMegawattHours > 0 ? (GreenMegawattHours + BatteryMegawattHours) / ComputeMegawattHours : 0;

    /// <summary>Tokens per kWh of compute and relocation energy; 0 when no energy was used.</summary>
    public double TokensPerKilowattHour
    {
        get
        {
            var kwh = (ComputeMegawattHours + RelocationMegawattHours) * 1000;
            return kwh > 0 ? Tokens / kwh : 0;
        }
    }

    public static EnergyLedger operator +(EnergyLedger a, EnergyLedger b) => new(
        a.GreenMegawattHours + b.GreenMegawattHours,
        a.BatteryMegawattHours + b.BatteryMegawattHours,
        a.GridMegawattHours + b.GridMegawattHours,
        a.CurtailedMegawattHours + b.CurtailedMegawattHours,
        a.RelocationMegawattHours + b.RelocationMegawattHours,
        a.CostCny + b.CostCny,
        a.Co2EmittedKg + b.Co2EmittedKg,
        a.Co2AvoidedKg + b.Co2AvoidedKg,
        a.Tokens + b.Tokens,
        a.Relocations + b.Relocations,
        a.RelocatedGigabytes + b.RelocatedGigabytes);

    /// <summary>Prices energy drawn from each source. Energies in MWh, prices in CNY/kWh, carbon in kg/kWh.</summary>
    public static EnergyLedger ForEnergy(double greenMwh, double batteryMwh, double gridMwh, double curtailedMwh,
        double greenPriceCnyPerKwh, double gridPriceCnyPerKwh, double gridCarbonKgPerKwh, double tokens = 0) => new(
        greenMwh, batteryMwh, gridMwh, curtailedMwh, 0,
        CostCny: (greenMwh + batteryMwh) * 1000 * greenPriceCnyPerKwh + gridMwh * 1000 * gridPriceCnyPerKwh,
        Co2EmittedKg: gridMwh * 1000 * gridCarbonKgPerKwh,
        Co2AvoidedKg: (greenMwh + batteryMwh) * 1000 * gridCarbonKgPerKwh,
        Tokens: tokens, Relocations: 0, RelocatedGigabytes: 0);

    /// <summary>The cost of one relocation: its transfer energy (priced as grid energy, conservatively) and volume.</summary>
    public static EnergyLedger ForRelocation(double gigabytes, double transferMwh, double gridPriceCnyPerKwh, double gridCarbonKgPerKwh) => new(
        0, 0, 0, 0, transferMwh,
        CostCny: transferMwh * 1000 * gridPriceCnyPerKwh,
        Co2EmittedKg: transferMwh * 1000 * gridCarbonKgPerKwh,
        Co2AvoidedKg: 0, Tokens: 0, Relocations: 1, RelocatedGigabytes: gigabytes);
}
