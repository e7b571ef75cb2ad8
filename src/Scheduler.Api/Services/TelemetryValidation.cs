namespace Scheduler.Api.Services;

using Scheduler.Api.V1;

/// <summary>
/// What a sample must look like before its plant grain judges its values: a plant id, valid timestamps, a sane
/// temperature and a bounded forecast. The plant grain then checks NaN/infinite/negative output, nameplate × tolerance,
/// future skew and order (<c>Scheduler.Core.Telemetry.GenerationRules</c>). Either way a bad sample changes nothing.
/// </summary>
internal static class TelemetryValidation
{
    /// <summary>Forecast points per sample: a day at 5-minute resolution is 288. Default and limit: 1000.</summary>
    public const int MaxForecastPoints = 1000;

    /// <summary>Outside air temperature, °C: beyond any recorded weather is a sensor fault.</summary>
    public const double MinCelsius = -90, MaxCelsius = 60;

    /// <summary>The first bad field of the sample and why, or null.</summary>
    public static (string? Field, string? Reason)? CheckShape(GenerationSample sample)
    {
        var check = new RequestValidation().Id(sample.PlantId, "plant_id").Time(sample.Time, "time")
            .Check(!sample.HasOutsideCelsius || (double.IsFinite(sample.OutsideCelsius) && sample.OutsideCelsius is >= MinCelsius and <= MaxCelsius),
                "outside_celsius", $"must be a finite number within [{MinCelsius}, {MaxCelsius}], was {sample.OutsideCelsius}")
            .Check(sample.Forecast.Count <= MaxForecastPoints, "forecast", $"at most {MaxForecastPoints} points, was {sample.Forecast.Count}");
        for (var i = 0; i < Math.Min(sample.Forecast.Count, MaxForecastPoints); i++)
            if (sample.Forecast[i].Time is not { } t || !RequestValidation.IsTime(t)) check.Time(sample.Forecast[i].Time, $"forecast[{i}].time");
        return check.First is { } v ? (v.Field, v.Description) : null;
    }
}
