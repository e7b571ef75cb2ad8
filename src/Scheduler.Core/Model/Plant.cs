namespace Scheduler.Core.Model;

/// <summary>Kind of green generator.</summary>
public enum PlantKind { Wind, Solar }

/// <summary>A wind or solar plant feeding one site over a dedicated line.</summary>
/// <param name="Id">Stable plant id.</param>
/// <param name="Kind">Wind or solar.</param>
/// <param name="NameplateMegawatts">Rated output, MW.</param>
/// <param name="SiteId">The site this plant feeds (point to point).</param>
/// <param name="GreenPriceCnyPerKilowattHour">Delivered price of its energy, CNY/kWh. Default 0.36.</param>
public sealed record PlantSpec(string Id, PlantKind Kind, double NameplateMegawatts, string SiteId, double GreenPriceCnyPerKilowattHour = PlantSpec.DefaultGreenPriceCnyPerKilowattHour)
{
    /// <summary>Inner Mongolia's delivered green power price, CNY/kWh.</summary>
    public const double DefaultGreenPriceCnyPerKilowattHour = 0.36;

    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (string.IsNullOrWhiteSpace(Id)) errors.Add("id: must not be empty");
        if (string.IsNullOrWhiteSpace(SiteId)) errors.Add("site_id: must not be empty");
        if (!(NameplateMegawatts > 0) || !Limits.Within(NameplateMegawatts, 0, Limits.MaxMegawatts)) errors.Add($"nameplate_megawatts: must be > 0, at most {Limits.MaxMegawatts}");
        if (!Limits.Within(GreenPriceCnyPerKilowattHour, 0, Limits.MaxPriceCnyPerKilowattHour)) errors.Add($"green_price_cny_per_kilowatt_hour: must be within [0, {Limits.MaxPriceCnyPerKilowattHour}]");
        return errors;
    }
}
