namespace Scheduler.Scenarios.Generation;

/// <summary>
/// A wind turbine power curve as a fraction of rated power against hub-height wind speed at the reference air density
/// (1.225 kg/m³): 0 below cut-in, the table (linear in between) from cut-in to rated, 1 from rated up to and including cut-out, 0 above.
/// </summary>
public sealed class TurbinePowerCurve
{
    /// <summary>Standard sea-level air density of IEC 61400-12-1, kg/m³.</summary>
    public const double ReferenceAirDensityKilogramsPerCubicMetre = 1.225;

    private readonly double[] _speeds;
    private readonly double[] _fractions;

    /// <param name="points">(wind speed m/s, fraction of rated) from cut-in (fraction 0) to rated (fraction 1); speeds increasing, fractions non-decreasing.</param>
    /// <param name="cutOutMetresPerSecond">Speed above which the turbine shuts down, m/s.</param>
    public TurbinePowerCurve(IReadOnlyList<(double MetresPerSecond, double Fraction)> points, double cutOutMetresPerSecond)
    {
        var errors = Validate(points, cutOutMetresPerSecond);
        if (errors.Count > 0) throw new ArgumentException(string.Join("; ", errors));
        _speeds = [.. points.Select(p => p.MetresPerSecond)];
        _fractions = [.. points.Select(p => p.Fraction)];
        CutOutMetresPerSecond = cutOutMetresPerSecond;
    }

    public double CutInMetresPerSecond => _speeds[0];
    public double RatedMetresPerSecond => _speeds[^1];
    public double CutOutMetresPerSecond { get; }
    public IReadOnlyList<(double MetresPerSecond, double Fraction)> Points => [.. _speeds.Zip(_fractions)];

    /// <summary>
    /// A generic 3-4 MW class land turbine (about 3.6 MW on a 130 m rotor, IEC class II-III): cut-in 3 m/s, rated 12 m/s,
    /// cut-out 25 m/s. The table is written for this project as a smooth, rounded shape typical of published 3-4 MW curves
    /// (e.g. the IEA Wind Task 37 3.4 MW reference turbine, and the generic curves in NREL's System Advisor Model); it is not
    /// any one manufacturer's curve. Power coefficient near 0.45 at 7-9 m/s.
    /// </summary>
    public static TurbinePowerCurve Generic3600Kilowatt { get; } = new(
    [
        (3.0, 0.000), (3.5, 0.012), (4.0, 0.030), (4.5, 0.055), (5.0, 0.085), (5.5, 0.122), (6.0, 0.165),
        (6.5, 0.215), (7.0, 0.272), (7.5, 0.338), (8.0, 0.410), (8.5, 0.490), (9.0, 0.575), (9.5, 0.660),
        (10.0, 0.745), (10.5, 0.825), (11.0, 0.895), (11.5, 0.955), (12.0, 1.000),
    ], cutOutMetresPerSecond: 25.0);

    /// <summary>Fraction of rated power, 0..1, at hub-height speed <paramref name="metresPerSecond"/> (already density-normalised).</summary>
    public double Fraction(double metresPerSecond)
    {
        var v = metresPerSecond;
        if (!(v >= _speeds[0]) || v > CutOutMetresPerSecond) return 0;
        if (v >= _speeds[^1]) return 1;
        var i = Array.BinarySearch(_speeds, v);
        if (i >= 0) return _fractions[i];
        i = ~i; // first speed above v; i >= 1 because v >= cut-in
        var t = (v - _speeds[i - 1]) / (_speeds[i] - _speeds[i - 1]);
        return _fractions[i - 1] + t * (_fractions[i] - _fractions[i - 1]);
    }

    /// <summary>
    /// Wind speed normalised for air density as in IEC 61400-12-1: v · (ρ/ρ₀)^(1/3). Thin air carries less power at the same speed,
    /// which the curve (drawn for ρ₀) sees as a lower speed.
    /// </summary>
    // See: IEC 61400-12-1:2017, 9.1.5 (density normalisation for pitch-regulated turbines).
    public static double DensityNormalisedSpeed(double metresPerSecond, double airDensity) =>
        metresPerSecond * Math.Cbrt(airDensity / ReferenceAirDensityKilogramsPerCubicMetre);

    /// <summary>Dry-air density from pressure (Pa) and temperature (°C), kg/m³: ρ = p / (R·T), R = 287.05 J/(kg·K).</summary>
    public static double AirDensity(double pressurePascals, double celsius) => pressurePascals / (287.05 * (celsius + 273.15));

    public static IReadOnlyList<string> Validate(IReadOnlyList<(double MetresPerSecond, double Fraction)> points, double cutOut)
    {
        var errors = new List<string>();
        if (points.Count < 2) { errors.Add("curve: needs at least two points, cut-in (fraction 0) to rated (fraction 1)"); return errors; }
        if (!(points[0].MetresPerSecond > 0)) errors.Add("curve: cut-in speed must be > 0");
        if (points[0].Fraction != 0) errors.Add("curve: the first point (cut-in) must have fraction 0");
        if (points[^1].Fraction != 1) errors.Add("curve: the last point (rated) must have fraction 1");
        for (var i = 1; i < points.Count; i++)
        {
            if (!(points[i].MetresPerSecond > points[i - 1].MetresPerSecond)) errors.Add($"curve[{i}]: speeds must increase");
            if (!(points[i].Fraction >= points[i - 1].Fraction) || points[i].Fraction > 1) errors.Add($"curve[{i}]: fractions must not decrease and stay <= 1");
        }
        if (!(cutOut >= points[^1].MetresPerSecond)) errors.Add("cut_out_mps: must be >= the rated speed (last curve point)");
        return errors;
    }
}
