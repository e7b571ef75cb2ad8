namespace Scheduler.Scenarios.Generation;

/// <summary>
/// A PVWatts-style temperature-derated PV plant. Plane-of-array irradiance is taken as GHI (a horizontal or low-tilt array: a
/// conservative stand-in for a transposition model, typically 5-15 % below an equator-facing fixed tilt over a year). Cell temperature
/// by the Faiman model T_cell = T_air + POA / (U0 + U1·wind). DC power = nameplate · DC/AC ratio · POA/1000 · (1 + γ·(T_cell − 25));
/// AC = DC · (1 − system losses) · inverter efficiency, clipped to [0, nameplate] (the plant's nameplate is its AC rating).
/// </summary>
/// <param name="DcAcRatio">DC array rating over AC (inverter) rating. Default 1.2 (PVWatts' default).</param>
/// <param name="SystemLossesFraction">Soiling, shading, mismatch, wiring, availability. Default 0.14 (PVWatts' default).</param>
/// <param name="InverterEfficiency">Default 0.96 (PVWatts' nominal).</param>
/// <param name="TemperatureCoefficientPerCelsius">Power change per °C of cell temperature above 25 °C. Default −0.004 (crystalline silicon).</param>
/// <param name="FaimanU0">Constant heat-loss factor, W/(m²·K). Default 25.0.</param>
/// <param name="FaimanU1">Wind heat-loss factor, W·s/(m³·K). Default 6.84.</param>
// See: A. P. Dobos, "PVWatts Version 5 Manual", NREL/TP-6A20-62641 (2014); D. Faiman, "Assessing the outdoor operating temperature of
// photovoltaic modules", Prog. Photovolt. 16 (2008) 307-315 (U0, U1 as the pvlib defaults).
public sealed record PvModel(
    double DcAcRatio = 1.2,
    double SystemLossesFraction = 0.14,
    double InverterEfficiency = 0.96,
    double TemperatureCoefficientPerCelsius = -0.004,
    double FaimanU0 = 25.0,
    double FaimanU1 = 6.84)
{
    /// <summary>Wind speed assumed when a file has none, m/s.</summary>
    public const double DefaultWindMetresPerSecond = 1.0;

    public static PvModel Default { get; } = new();

    public double CellCelsius(double poaWattsPerSquareMetre, double airCelsius, double windMetresPerSecond) =>
        airCelsius + poaWattsPerSquareMetre / (FaimanU0 + FaimanU1 * Math.Max(0, windMetresPerSecond));

    /// <summary>AC output as a fraction of nameplate, 0..1, for plane-of-array irradiance (GHI for a PSM3 file, see the type remarks).</summary>
    public double OutputFraction(double poaWattsPerSquareMetre, double airCelsius, double windMetresPerSecond = DefaultWindMetresPerSecond)
    {
        if (!(poaWattsPerSquareMetre > 0)) return 0;
        var poa = poaWattsPerSquareMetre;
        var cell = CellCelsius(poa, airCelsius, windMetresPerSecond);
        var dc = DcAcRatio * poa / 1000.0 * (1 + TemperatureCoefficientPerCelsius * (cell - 25));
        var ac = dc * (1 - SystemLossesFraction) * InverterEfficiency;
        return Math.Clamp(ac, 0, 1);
    }

    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (!(DcAcRatio > 0)) errors.Add("dc_ac_ratio: must be > 0");
        if (!(SystemLossesFraction >= 0 && SystemLossesFraction < 1)) errors.Add("system_losses_fraction: must be in [0, 1)");
        if (!(InverterEfficiency > 0 && InverterEfficiency <= 1)) errors.Add("inverter_efficiency: must be in (0, 1]");
        if (!(TemperatureCoefficientPerCelsius <= 0 && TemperatureCoefficientPerCelsius > -0.05)) errors.Add("temperature_coefficient_per_celsius: must be in (-0.05, 0]");
        if (!(FaimanU0 > 0)) errors.Add("faiman_u0: must be > 0");
        if (!(FaimanU1 >= 0)) errors.Add("faiman_u1: must be >= 0");
        return errors;
    }
}
