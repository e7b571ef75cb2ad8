namespace Scheduler.Core.Telemetry;

using Scheduler.Core.Model;
using Scheduler.Core.Policy;

/// <summary>A bad field of a request, named as the API names it.</summary>
public readonly record struct FieldViolation(string Field, string Description);

/// <summary>Limits for plant telemetry.</summary>
public sealed class GenerationRulesOptions
{
    /// <summary>Output may exceed nameplate by this factor (sensor noise, over-rating) before it is rejected. Default: 1.1.</summary>
    public double NameplateTolerance { get; set; } = 1.1;

    /// <summary>A sample stamped further than this ahead of the scheduler's clock is rejected. Default: 5 minutes.</summary>
    public TimeSpan MaxFutureSkew { get; set; } = TimeSpan.FromMinutes(5);

    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (!(NameplateTolerance >= 1) || !double.IsFinite(NameplateTolerance)) errors.Add($"{nameof(NameplateTolerance)}: must be >= 1, was {NameplateTolerance}");
        if (MaxFutureSkew < TimeSpan.Zero) errors.Add($"{nameof(MaxFutureSkew)}: must be >= 0, was {MaxFutureSkew}");
        return errors;
    }
}

/// <summary>
/// What makes a generation sample acceptable. A rejected sample changes nothing. Samples of one plant must arrive in
/// strictly increasing time: a duplicate or out-of-order sample is rejected (the rule for streams: drop and count).
/// </summary>
public static class GenerationRules
{
    public static FieldViolation? Check(PlantSpec plant, DateTimeOffset? lastAt, DateTimeOffset at, double megawatts,
        IReadOnlyList<ForecastPoint> forecast, DateTimeOffset now, GenerationRulesOptions options)
    {
        if (!double.IsFinite(megawatts)) return new("megawatts", "must be a finite number");
        if (megawatts < 0) return new("megawatts", $"must be >= 0, was {megawatts}");
        var ceiling = plant.NameplateMegawatts * options.NameplateTolerance;
        if (megawatts > ceiling) return new("megawatts", $"{megawatts} exceeds nameplate {plant.NameplateMegawatts} MW × tolerance {options.NameplateTolerance}");
        if (at > now + options.MaxFutureSkew) return new("time", $"{at:O} is more than {options.MaxFutureSkew} ahead of the scheduler clock {now:O}");
        if (lastAt is { } last && at <= last) return new("time", $"{at:O} is not after the plant's previous sample {last:O} (duplicate or out of order)");
        for (var i = 0; i < forecast.Count; i++)
        {
            var p = forecast[i];
            if (!double.IsFinite(p.GreenSupplyMegawatts) || p.GreenSupplyMegawatts < 0 || p.GreenSupplyMegawatts > ceiling)
                return new($"forecast[{i}].megawatts", $"must be within [0, {ceiling}], was {p.GreenSupplyMegawatts}");
            if (i > 0 && p.At <= forecast[i - 1].At) return new($"forecast[{i}].time", "forecast points must be in increasing time");
        }
        return null;
    }
}
