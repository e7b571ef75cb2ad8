namespace Scheduler.Core.Model;

/// <summary>
/// Upper bounds on configured quantities, far above any real site or plant. A value that is finite but absurd (1e300 kW
/// per GPU, say) would overflow to infinity in the energy and cost sums, and stored state cannot hold an infinity; so
/// configuration is refused above these, with the field named.
/// </summary>
public static class Limits
{
    public const int MaxGpus = 10_000_000;
    public const double MaxKilowattsPerGpu = 100;
    public const double MaxMegawatts = 100_000;
    public const double MaxMegawattHours = 1_000_000;
    public const double MaxPriceCnyPerKilowattHour = 1_000;
    public const double MaxCarbonKgPerKilowattHour = 100;
    public const double MaxPue = 10;
    public const double MaxCelsius = 200;

    /// <summary>Finite and within [min, max].</summary>
    public static bool Within(double value, double min, double max) => double.IsFinite(value) && value >= min && value <= max;
}
