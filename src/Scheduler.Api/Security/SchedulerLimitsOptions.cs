namespace Scheduler.Api.Security;

using Microsoft.Extensions.Options;

/// <summary>
/// What one caller may ask of the API. Section <c>Scheduler:Limits</c>. Rates and concurrency are per principal and
/// per call class (jobs, telemetry, fleet), each with its own buckets, so a plant flooding telemetry only empties its
/// own telemetry bucket and never delays job or fleet calls.
/// </summary>
public sealed class SchedulerLimitsOptions
{
    public const string Section = "Scheduler:Limits";

    /// <summary>Largest request message the server reads, in bytes (larger: RESOURCE_EXHAUSTED). Default: 1 MiB.</summary>
    public int MaxMessageBytes { get; set; } = 1024 * 1024;

    /// <summary>
    /// Server-side deadline of a unary call, grain calls included: past it the call ends with DEADLINE_EXCEEDED even
    /// if the client set none. Streams (watch, telemetry push) are bounded per grain call by Orleans' response
    /// timeout instead. Default: 30 seconds.
    /// </summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Apply the limits to operators as well. Operators are the scheduler's own clients (demo, replay driver, load
    /// tool) and its staff; a replay pushes thousands of calls a second. Default: false.
    /// </summary>
    public bool ApplyToOperators { get; set; }

    /// <summary>JobService, per tenant principal. Default: 20 calls/s, burst 100, 32 concurrent (open watches count).</summary>
    public CallClassLimits Jobs { get; set; } = new() { PermitsPerSecond = 20, Burst = 100, MaxConcurrentCalls = 32 };

    /// <summary>
    /// TelemetryService, per plant principal, counted in samples (a stream's every sample takes a permit).
    /// Default: 20 samples/s, burst 100, 4 concurrent calls (a plant pushes about one sample a second).
    /// </summary>
    public CallClassLimits Telemetry { get; set; } = new() { PermitsPerSecond = 20, Burst = 100, MaxConcurrentCalls = 4 };

    /// <summary>FleetService and ReplayService (operators only; applies when <see cref="ApplyToOperators"/>). Default: 50 calls/s, burst 200, 16 concurrent.</summary>
    public CallClassLimits Fleet { get; set; } = new() { PermitsPerSecond = 50, Burst = 200, MaxConcurrentCalls = 16 };

    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (MaxMessageBytes is < 1024 or > 64 * 1024 * 1024) errors.Add($"{Section}:MaxMessageBytes must be within [1 KiB, 64 MiB], was {MaxMessageBytes}");
        if (RequestTimeout <= TimeSpan.Zero || RequestTimeout > TimeSpan.FromHours(1)) errors.Add($"{Section}:RequestTimeout must be within (0, 1 h], was {RequestTimeout}");
        foreach (var (name, limits) in new[] { (nameof(Jobs), Jobs), (nameof(Telemetry), Telemetry), (nameof(Fleet), Fleet) })
        {
            if (limits.PermitsPerSecond is < 1 or > 1_000_000) errors.Add($"{Section}:{name}:PermitsPerSecond must be within [1, 1000000], was {limits.PermitsPerSecond}");
            if (limits.Burst < limits.PermitsPerSecond || limits.Burst > 10_000_000) errors.Add($"{Section}:{name}:Burst must be within [PermitsPerSecond, 10000000], was {limits.Burst}");
            if (limits.MaxConcurrentCalls is < 1 or > 100_000) errors.Add($"{Section}:{name}:MaxConcurrentCalls must be within [1, 100000], was {limits.MaxConcurrentCalls}");
        }
        return errors;
    }
}

/// <summary>Limits of one call class for one principal: a token bucket refilled once a second, and a concurrency cap.</summary>
public sealed class CallClassLimits
{
    /// <summary>Permits added each second (a call, or a telemetry sample).</summary>
    public int PermitsPerSecond { get; set; }

    /// <summary>Bucket size: how many permits an idle caller may spend at once.</summary>
    public int Burst { get; set; }

    /// <summary>Calls in flight at once (streams count while open).</summary>
    public int MaxConcurrentCalls { get; set; }
}

/// <summary>Fails the start on bad limits, with every bad key named.</summary>
internal sealed class SchedulerLimitsOptionsValidator : IValidateOptions<SchedulerLimitsOptions>
{
    public ValidateOptionsResult Validate(string? name, SchedulerLimitsOptions options) =>
        options.Validate() is { Count: > 0 } errors ? ValidateOptionsResult.Fail(errors) : ValidateOptionsResult.Success;
}
