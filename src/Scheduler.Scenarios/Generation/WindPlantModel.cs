namespace Scheduler.Scenarios.Generation;

/// <summary>
/// A wind plant from an <c>.srw</c> file: speed at hub height (the file's column, or power-law shear between/beyond its heights),
/// air density from the file's pressure and temperature, IEC density normalisation, a <see cref="TurbinePowerCurve"/>, and
/// plant losses (wakes, availability, electrical). Output = nameplate × curve fraction × (1 − losses), MW.
/// </summary>
/// <param name="Curve">Turbine curve; default <see cref="TurbinePowerCurve.Generic3600Kilowatt"/>.</param>
/// <param name="HubHeightMetres">Hub height, m. Default 100.</param>
/// <param name="DensityCorrection">Apply the IEC density normalisation. Default true.</param>
/// <param name="LossesFraction">Plant losses, 0..1. Default 0.10 (wake, availability and electrical losses of a typical onshore farm).</param>
public sealed record WindPlantModel(TurbinePowerCurve Curve, double HubHeightMetres = 100, bool DensityCorrection = true, double LossesFraction = 0.10)
{
    /// <summary>Shear exponent used when a file has one height only (the 1/7 power law).</summary>
    public const double DefaultShearExponent = 1.0 / 7.0;

    private const double PascalsPerAtmosphere = 101_325;

    /// <summary>Hub-height wind speed, m/s, for every row.</summary>
    public double[] HubSpeeds(SrwFile file)
    {
        var heights = file.HeightsOf("Speed");
        if (heights.Count == 0) throw new FormatException($"srw file {file.LocationId}: no Speed column");
        var h = HubHeightMetres;
        if (heights.Contains(h)) return (double[])file.Column("Speed", h).Clone();
        if (heights.Count == 1)
        {
            var only = file.Column("Speed", heights[0]);
            var factor = Math.Pow(h / heights[0], DefaultShearExponent);
            return [.. only.Select(v => v * factor)];
        }
        // Bracketing heights, or the two nearest ends when extrapolating.
        var upper = 1;
        while (upper < heights.Count - 1 && heights[upper] < h) upper++;
        double h1 = heights[upper - 1], h2 = heights[upper];
        var v1s = file.Column("Speed", h1);
        var v2s = file.Column("Speed", h2);
        var inside = h > h1 && h < h2;
        var result = new double[file.Rows];
        for (var i = 0; i < result.Length; i++)
        {
            double v1 = v1s[i], v2 = v2s[i];
            var alpha = v1 > 0.1 && v2 > 0.1 ? Math.Log(v2 / v1) / Math.Log(h2 / h1) : DefaultShearExponent;
            // Between the heights the row's own exponent reproduces both ends; beyond them keep it physical.
            if (!inside) alpha = Math.Clamp(alpha, 0, 0.5);
            var (vRef, hRef) = h < h1 ? (v1, h1) : h > h2 ? (v2, h2) : (v1, h1);
            result[i] = vRef * Math.Pow(h / hRef, alpha);
        }
        return result;
    }

    /// <summary>Air density at hub height, kg/m³, per row: pressure and temperature from the nearest height that has both.</summary>
    public double[] AirDensities(SrwFile file)
    {
        var heights = file.HeightsOf("Pressure").Intersect(file.HeightsOf("Temperature")).ToList();
        if (heights.Count == 0) return [.. Enumerable.Repeat(TurbinePowerCurve.ReferenceAirDensityKilogramsPerCubicMetre, file.Rows)];
        var nearest = heights.MinBy(x => Math.Abs(x - HubHeightMetres));
        var p = file.Column("Pressure", nearest);
        var t = file.Column("Temperature", nearest);
        var rho = new double[file.Rows];
        for (var i = 0; i < rho.Length; i++) rho[i] = TurbinePowerCurve.AirDensity(p[i] * PascalsPerAtmosphere, t[i]);
        return rho;
    }

    /// <summary>Plant output, MW, for every row of the file.</summary>
    public double[] OutputMegawatts(SrwFile file, double nameplateMegawatts)
    {
        var speeds = HubSpeeds(file);
        var rho = DensityCorrection ? AirDensities(file) : null;
        var mw = new double[speeds.Length];
        for (var i = 0; i < mw.Length; i++)
        {
            var v = rho is null ? speeds[i] : TurbinePowerCurve.DensityNormalisedSpeed(speeds[i], rho[i]);
            mw[i] = OutputMegawatts(v, nameplateMegawatts);
        }
        return mw;
    }

    /// <summary>Plant output, MW, at a density-normalised hub-height speed.</summary>
    public double OutputMegawatts(double normalisedMetresPerSecond, double nameplateMegawatts) =>
        nameplateMegawatts * Curve.Fraction(normalisedMetresPerSecond) * (1 - LossesFraction);
}
