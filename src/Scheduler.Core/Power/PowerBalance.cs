namespace Scheduler.Core.Power;

using Scheduler.Core.Model;

/// <summary>What a site's microgrid is doing in a step. Flags, since several can hold at once.</summary>
[Flags]
public enum PowerBalanceMode
{
    /// <summary>Green supply exactly meets load.</summary>
    Balanced = 0,
    Charging = 1,
    Discharging = 2,
    Curtailing = 4,
    Importing = 8,
    /// <summary>Load exceeds green + battery + grid limit; the policy must shed or move load.</summary>
    Shortfall = 16,
}

/// <summary>Inputs of one power balance step at one site.</summary>
/// <param name="GreenSupplyMegawatts">Power the site's plants deliver, MW.</param>
/// <param name="LoadMegawatts">Facility load (IT × PUE + base load), MW.</param>
/// <param name="StateOfChargeMegawattHours">Battery energy at the start of the step, MWh.</param>
/// <param name="Battery">Battery limits.</param>
/// <param name="GridImportLimitMegawatts">Most power the site may import, MW.</param>
/// <param name="StepHours">Step length, hours.</param>
public readonly record struct PowerBalanceInput(
    double GreenSupplyMegawatts,
    double LoadMegawatts,
    double StateOfChargeMegawattHours,
    BatterySpec Battery,
    double GridImportLimitMegawatts,
    double StepHours);

/// <summary>
/// Outcome of one step. All powers are averages over the step, MW, at the site bus.
/// Balance: green + discharge + import + shortfall = load + charge + curtailment. Export is always 0.
/// </summary>
public readonly record struct PowerBalanceResult(
    double GreenUsedMegawatts,
    double ChargeMegawatts,
    double DischargeMegawatts,
    double GridImportMegawatts,
    double CurtailmentMegawatts,
    double ShortfallMegawatts,
    double StateOfChargeMegawattHours,
    double BatteryLossMegawattHours)
{
    /// <summary>Power sent back to the public grid. Always 0: the sites are islanded from export.</summary>
    public double ExportMegawatts => 0;

    /// <summary>Load actually served, MW.</summary>
    public double ServedLoadMegawatts => GreenUsedMegawatts + DischargeMegawatts + GridImportMegawatts;

    public PowerBalanceMode Mode =>
        (ChargeMegawatts > 0 ? PowerBalanceMode.Charging : 0)
        | (DischargeMegawatts > 0 ? PowerBalanceMode.Discharging : 0)
        | (CurtailmentMegawatts > 0 ? PowerBalanceMode.Curtailing : 0)
        | (GridImportMegawatts > 0 ? PowerBalanceMode.Importing : 0)
        | (ShortfallMegawatts > 0 ? PowerBalanceMode.Shortfall : 0);
}

/// <summary>
/// The microgrid rule practised at Inner Mongolia's green compute hubs: green power first; surplus charges the
/// battery and the rest is curtailed (never exported); a gap is filled by the battery first, then the grid up to its
/// import limit; whatever remains is a shortfall that the policy must resolve by moving or pausing load.
/// </summary>
public static class PowerBalance
{
    /// <summary>Runs one step. Pure; never throws for finite non-negative inputs.</summary>
    public static PowerBalanceResult Step(in PowerBalanceInput input)
    {
        var green = Math.Max(0, input.GreenSupplyMegawatts);
        var load = Math.Max(0, input.LoadMegawatts);
        var hours = input.StepHours;
        var battery = input.Battery;
        var soc = Math.Clamp(input.StateOfChargeMegawattHours, battery.MinEnergyMegawattHours, battery.MaxEnergyMegawattHours);

        var greenUsed = Math.Min(green, load);
        var surplus = green - greenUsed;
        var deficit = load - greenUsed;

        double charge = 0, discharge = 0, import = 0, curtail = 0, shortfall = 0, loss = 0;
        if (surplus > 0)
        {
            var etaIn = battery.ChargeEfficiency;
            var room = battery.MaxEnergyMegawattHours - soc;
            charge = hours > 0 ? Math.Min(Math.Min(surplus, battery.MaxChargeMegawatts), room / (etaIn * hours)) : 0;
            charge = Math.Max(0, charge);
            var stored = charge * hours * etaIn;
            loss = charge * hours - stored;
            soc = Math.Min(battery.MaxEnergyMegawattHours, soc + stored);
            curtail = surplus - charge;
        }
        else if (deficit > 0)
        {
            var etaOut = battery.DischargeEfficiency;
            var available = soc - battery.MinEnergyMegawattHours;
            discharge = hours > 0 ? Math.Min(Math.Min(deficit, battery.MaxDischargeMegawatts), available * etaOut / hours) : 0;
            discharge = Math.Max(0, discharge);
            var drawn = hours > 0 ? discharge * hours / etaOut : 0;
            loss = drawn - discharge * hours;
            soc = Math.Max(battery.MinEnergyMegawattHours, soc - drawn);
            var remaining = deficit - discharge;
            import = Math.Min(remaining, Math.Max(0, input.GridImportLimitMegawatts));
            shortfall = remaining - import;
        }

        return new PowerBalanceResult(greenUsed, charge, discharge, import, curtail, shortfall, soc, loss);
    }
}
