namespace Scheduler.Core.Tests;

using CsCheck;
using Scheduler.Core.Model;
using Scheduler.Core.Power;

public class PowerBalanceTests
{
    private static readonly BatterySpec Battery = new(CapacityMegawattHours: 100, MaxChargeMegawatts: 20, MaxDischargeMegawatts: 25,
        RoundTripEfficiency: 0.81, MinStateOfCharge: 0.1, MaxStateOfCharge: 0.9);

    private static PowerBalanceResult Step(double green, double load, double soc, double gridLimit = 50, double hours = 1) =>
        PowerBalance.Step(new PowerBalanceInput(green, load, soc, Battery, gridLimit, hours));

    [Fact]
    public void Step_ChargesThenCurtails_WhenGreenExceedsLoad()
    {
        var r = Step(green: 100, load: 60, soc: 50);

        Assert.Equal(60, r.GreenUsedMegawatts);
        Assert.Equal(20, r.ChargeMegawatts); // limited by max charge
        Assert.Equal(20, r.CurtailmentMegawatts);
        Assert.Equal(50 + 20 * 0.9, r.StateOfChargeMegawattHours, 9);
        Assert.Equal(0, r.GridImportMegawatts);
        Assert.Equal(PowerBalanceMode.Charging | PowerBalanceMode.Curtailing, r.Mode);
    }

    [Fact]
    public void Step_ChargesOnlyUpToMaxStateOfCharge()
    {
        var r = Step(green: 100, load: 60, soc: 89.1);

        Assert.Equal(90, r.StateOfChargeMegawattHours, 9);
        Assert.Equal(0.9 / 0.9, r.ChargeMegawatts, 9);
        Assert.Equal(40 - 1, r.CurtailmentMegawatts, 9);
    }

    [Fact]
    public void Step_DischargesBeforeImporting_WhenGreenFallsShort()
    {
        var r = Step(green: 10, load: 30, soc: 50);

        Assert.Equal(20, r.DischargeMegawatts);
        Assert.Equal(0, r.GridImportMegawatts);
        Assert.Equal(50 - 20 / 0.9, r.StateOfChargeMegawattHours, 9);
        Assert.Equal(PowerBalanceMode.Discharging, r.Mode);
    }

    [Fact]
    public void Step_ImportsOnlyWhatTheBatteryCannotCover()
    {
        var r = Step(green: 0, load: 40, soc: 50);

        Assert.Equal(25, r.DischargeMegawatts); // max discharge
        Assert.Equal(15, r.GridImportMegawatts);
        Assert.Equal(0, r.ShortfallMegawatts);
    }

    [Fact]
    public void Step_ReportsShortfall_BeyondGridImportLimit()
    {
        var r = Step(green: 0, load: 100, soc: 10, gridLimit: 30); // battery at its minimum

        Assert.Equal(0, r.DischargeMegawatts);
        Assert.Equal(30, r.GridImportMegawatts);
        Assert.Equal(70, r.ShortfallMegawatts);
        Assert.Equal(PowerBalanceMode.Importing | PowerBalanceMode.Shortfall, r.Mode);
    }

    [Fact]
    public void Step_NeverExports_EvenWithFullBatteryAndNoLoad()
    {
        var r = Step(green: 300, load: 0, soc: 90);

        Assert.Equal(0, r.ExportMegawatts);
        Assert.Equal(300, r.CurtailmentMegawatts);
    }

    private static readonly Gen<(double Green, double Load, double Soc, BatterySpec Battery, double GridLimit, double Hours)> Inputs =
        Gen.Select(Gen.Double[0, 500], Gen.Double[0, 500], Gen.Double[0, 1], BatteryGen, Gen.Double[0, 300], Gen.Double[0.001, 2])
           .Select((g, l, f, b, grid, h) => (g, l, b.MinEnergyMegawattHours + f * (b.MaxEnergyMegawattHours - b.MinEnergyMegawattHours), b, grid, h));

    private static Gen<BatterySpec> BatteryGen =>
        Gen.Select(Gen.Double[0, 400], Gen.Double[0, 100], Gen.Double[0, 100], Gen.Double[0.5, 1], Gen.Double[0, 0.5], Gen.Double[0.5, 1])
           .Select((cap, ch, dis, eff, min, max) => new BatterySpec(cap, ch, dis, eff, min, max));

    [Fact]
    public void Step_ConservesEnergy_ExportsNothing_KeepsStateOfChargeInBounds_ForRandomInputs()
    {
        Inputs.Sample(x =>
        {
            var r = PowerBalance.Step(new PowerBalanceInput(x.Green, x.Load, x.Soc, x.Battery, x.GridLimit, x.Hours));
            var h = x.Hours;

            Assert.Equal(0, r.ExportMegawatts);
            // Bus balance: load is served by green, battery, grid or left short; green goes to load, battery or curtailment.
            AssertClose(r.GreenUsedMegawatts + r.DischargeMegawatts + r.GridImportMegawatts + r.ShortfallMegawatts, x.Load);
            AssertClose(r.GreenUsedMegawatts + r.ChargeMegawatts + r.CurtailmentMegawatts, x.Green);
            // Storage: energy in − energy out − losses = change in state of charge.
            AssertClose(r.ChargeMegawatts * h - r.DischargeMegawatts * h - r.BatteryLossMegawattHours, r.StateOfChargeMegawattHours - x.Soc, scale: x.Battery.CapacityMegawattHours + x.Green + x.Load);
            Assert.InRange(r.StateOfChargeMegawattHours, x.Battery.MinEnergyMegawattHours - 1e-9, x.Battery.MaxEnergyMegawattHours + 1e-9);
            Assert.True(r.BatteryLossMegawattHours >= -1e-12);
            // Limits.
            Assert.InRange(r.ChargeMegawatts, 0, x.Battery.MaxChargeMegawatts + 1e-9);
            Assert.InRange(r.DischargeMegawatts, 0, x.Battery.MaxDischargeMegawatts + 1e-9);
            Assert.InRange(r.GridImportMegawatts, 0, x.GridLimit + 1e-9);
            Assert.True(r.CurtailmentMegawatts >= 0 && r.ShortfallMegawatts >= 0);
        }, iter: 2000);
    }

    [Fact]
    public void Step_UsesGreenFirst_ThenBattery_ThenGrid_ForRandomInputs()
    {
        Inputs.Sample(x =>
        {
            var r = PowerBalance.Step(new PowerBalanceInput(x.Green, x.Load, x.Soc, x.Battery, x.GridLimit, x.Hours));

            Assert.Equal(Math.Min(x.Green, x.Load), r.GreenUsedMegawatts);
            // The battery charges only from surplus green and never charges and discharges at once.
            Assert.True(r.ChargeMegawatts == 0 || x.Green > x.Load);
            Assert.True(r.ChargeMegawatts == 0 || r.DischargeMegawatts == 0);
            // Surplus is curtailed only when the battery cannot take more.
            if (r.CurtailmentMegawatts > 1e-9)
                Assert.True(r.ChargeMegawatts >= x.Battery.MaxChargeMegawatts - 1e-9
                    || r.StateOfChargeMegawattHours >= x.Battery.MaxEnergyMegawattHours - 1e-9);
            // The grid is used only when the battery is at its power limit or empty.
            if (r.GridImportMegawatts > 1e-9)
                Assert.True(r.DischargeMegawatts >= x.Battery.MaxDischargeMegawatts - 1e-9
                    || r.StateOfChargeMegawattHours <= x.Battery.MinEnergyMegawattHours + 1e-9);
            // A shortfall only once the grid is at its limit.
            if (r.ShortfallMegawatts > 1e-9) Assert.Equal(x.GridLimit, r.GridImportMegawatts, 9);
        }, iter: 2000);
    }

    private static void AssertClose(double expected, double actual, double scale = 0)
    {
        var tolerance = 1e-9 * Math.Max(1, Math.Max(scale, Math.Max(Math.Abs(expected), Math.Abs(actual))));
        Assert.True(Math.Abs(expected - actual) <= tolerance, $"expected {expected}, got {actual} (tolerance {tolerance})");
    }
}
