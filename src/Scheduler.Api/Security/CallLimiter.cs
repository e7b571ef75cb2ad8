namespace Scheduler.Api.Security;

using System.Threading.RateLimiting;
using Google.Protobuf.WellKnownTypes;
using Google.Rpc;
using Grpc.Core;
using Microsoft.Extensions.Options;

/// <summary>The classes of calls that are limited separately: a flood in one never takes permits from another.</summary>
public enum CallClass
{
    Jobs,
    Telemetry,
    Fleet,
}

/// <summary>
/// Per-principal, per-class token buckets and concurrency caps (<see cref="SchedulerLimitsOptions"/>). A refused call
/// is RESOURCE_EXHAUSTED with a google.rpc.RetryInfo saying when a permit will be free, and has changed nothing:
/// limits are taken before authorization and before any grain is called.
/// </summary>
public sealed class CallLimiter : IDisposable
{
    private static readonly TimeSpan ConcurrencyRetry = TimeSpan.FromSeconds(1);
    private readonly SchedulerLimitsOptions _options;
    private readonly Dictionary<CallClass, (PartitionedRateLimiter<string> Rate, PartitionedRateLimiter<string> Concurrency)> _limiters = [];

    public CallLimiter(IOptions<SchedulerLimitsOptions> options)
    {
        _options = options.Value;
        foreach (var (cls, limits) in new[] { (CallClass.Jobs, _options.Jobs), (CallClass.Telemetry, _options.Telemetry), (CallClass.Fleet, _options.Fleet) })
        {
            // Refilled once a second: whole permits per second are what the options promise, and one timer serves all partitions.
            var rate = PartitionedRateLimiter.Create<string, string>(principal => RateLimitPartition.GetTokenBucketLimiter(principal, _ => new TokenBucketRateLimiterOptions
            {
                TokenLimit = limits.Burst, TokensPerPeriod = limits.PermitsPerSecond, ReplenishmentPeriod = TimeSpan.FromSeconds(1),
                QueueLimit = 0, AutoReplenishment = true,
            }));
            var concurrency = PartitionedRateLimiter.Create<string, string>(principal => RateLimitPartition.GetConcurrencyLimiter(principal, _ => new ConcurrencyLimiterOptions
            {
                PermitLimit = limits.MaxConcurrentCalls, QueueLimit = 0,
            }));
            _limiters[cls] = (rate, concurrency);
        }
    }

    public bool Applies(CallerIdentity caller) => !caller.IsOperator || _options.ApplyToOperators;

    /// <summary>Takes one permit of the caller's bucket for <paramref name="cls"/>, or throws RESOURCE_EXHAUSTED.</summary>
    public void TakePermit(CallerIdentity caller, CallClass cls)
    {
        if (!Applies(caller)) return;
        using var lease = _limiters[cls].Rate.AttemptAcquire(caller.Principal);
        if (lease.IsAcquired) return;
        var retry = lease.TryGetMetadata(MetadataName.RetryAfter, out var after) && after > TimeSpan.Zero ? after : TimeSpan.FromSeconds(1);
        throw Exhausted($"rate limit: {caller.Principal} may make {Limits(cls).PermitsPerSecond} {Unit(cls)}/s (burst {Limits(cls).Burst}) to {cls}; retry in {retry.TotalSeconds:0.###} s", retry);
    }

    /// <summary>Holds one of the caller's concurrent-call slots for <paramref name="cls"/> until disposed, or throws RESOURCE_EXHAUSTED.</summary>
    public IDisposable? EnterCall(CallerIdentity caller, CallClass cls)
    {
        if (!Applies(caller)) return null;
        var lease = _limiters[cls].Concurrency.AttemptAcquire(caller.Principal);
        if (lease.IsAcquired) return lease;
        lease.Dispose();
        throw Exhausted($"concurrency limit: {caller.Principal} may have {Limits(cls).MaxConcurrentCalls} {cls} calls in flight", ConcurrencyRetry);
    }

    private CallClassLimits Limits(CallClass cls) => cls switch { CallClass.Jobs => _options.Jobs, CallClass.Telemetry => _options.Telemetry, _ => _options.Fleet };

    private static string Unit(CallClass cls) => cls == CallClass.Telemetry ? "samples" : "calls";

    internal static RpcException Exhausted(string message, TimeSpan retryAfter) => new Google.Rpc.Status
    {
        Code = (int)Code.ResourceExhausted,
        Message = message,
        Details = { Any.Pack(new RetryInfo { RetryDelay = Duration.FromTimeSpan(retryAfter) }) },
    }.ToRpcException();

    public void Dispose()
    {
        foreach (var (rate, concurrency) in _limiters.Values)
        {
            rate.Dispose();
            concurrency.Dispose();
        }
    }
}
