namespace Scheduler.Api.Security;

using Grpc.Core;
using Grpc.Core.Interceptors;
using Microsoft.Extensions.Options;

/// <summary>
/// The API's front door, first in the interceptor chain. For every call but health and reflection, in this order:
/// authenticate the bearer token (UNAUTHENTICATED), take the caller's rate and concurrency permits (RESOURCE_EXHAUSTED),
/// authorize the request (PERMISSION_DENIED), then run the call, unary calls under the server-side deadline. The
/// order is deliberate: limits come before authorization because authorizing a job call reads the job's grain, and a
/// flood of denied calls must not reach the grains either.
/// </summary>
public sealed class SecurityInterceptor(SchedulerCredentials credentials, AccessPolicy policy, CallLimiter limiter, IOptions<SchedulerLimitsOptions> limits) : Interceptor
{
    /// <summary>Services anyone may call: probes and tools must work without a credential.</summary>
    private static readonly string[] OpenServices = ["grpc.health.v1.Health", "grpc.reflection.v1alpha.ServerReflection", "grpc.reflection.v1.ServerReflection"];

    public override async Task<TResponse> UnaryServerHandler<TRequest, TResponse>(TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        if (IsOpen(context.Method)) return await continuation(request, context);
        var (caller, cls) = await AdmitAsync(context);
        using var slot = limiter.EnterCall(caller, cls);
        limiter.TakePermit(caller, cls);
        await policy.AuthorizeAsync(caller, context.Method, request, context.CancellationToken);
        using var timed = new TimeLimitedCallContext(context, limits.Value.RequestTimeout);
        return await continuation(request, timed);
    }

    public override async Task<TResponse> ClientStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream, ServerCallContext context, ClientStreamingServerMethod<TRequest, TResponse> continuation)
    {
        if (IsOpen(context.Method)) return await continuation(requestStream, context);
        var (caller, cls) = await AdmitAsync(context);
        using var slot = limiter.EnterCall(caller, cls);
        await policy.AuthorizeAsync(caller, context.Method, null, context.CancellationToken);
        // Each message is checked as it is read, before the service sees it: a denied or over-limit sample ends the
        // stream and never reaches a grain (samples before it were the caller's own, within its limits).
        return await continuation(new GuardedStreamReader<TRequest>(requestStream, message =>
        {
            limiter.TakePermit(caller, cls);
            if (message is V1.GenerationSample sample) AccessPolicy.AuthorizeSample(caller, sample);
        }), context);
    }

    public override async Task ServerStreamingServerHandler<TRequest, TResponse>(TRequest request, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        if (IsOpen(context.Method)) { await continuation(request, responseStream, context); return; }
        var (caller, cls) = await AdmitAsync(context);
        using var slot = limiter.EnterCall(caller, cls);
        limiter.TakePermit(caller, cls);
        await policy.AuthorizeAsync(caller, context.Method, request, context.CancellationToken);
        await continuation(request, responseStream, context);
    }

    public override async Task DuplexStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, DuplexStreamingServerMethod<TRequest, TResponse> continuation)
    {
        // Reflection is the only duplex service; anything else duplex is for operators until it has its own rule.
        if (IsOpen(context.Method)) { await continuation(requestStream, responseStream, context); return; }
        var (caller, cls) = await AdmitAsync(context);
        using var slot = limiter.EnterCall(caller, cls);
        await policy.AuthorizeAsync(caller, context.Method, null, context.CancellationToken);
        await continuation(requestStream, responseStream, context);
    }

    private static bool IsOpen(string method) => OpenServices.Contains(AccessPolicy.ServiceOf(method), StringComparer.Ordinal);

    private async Task<(CallerIdentity Caller, CallClass Class)> AdmitAsync(ServerCallContext context)
    {
        var header = context.RequestHeaders.GetValue("authorization");
        if (string.IsNullOrEmpty(header))
            throw Unauthenticated("no credential: send 'authorization: Bearer TOKEN' (the CLI: --token, SCHEDULER_TOKEN or the credential file the host writes)");
        if (!header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) || header.Length <= 7)
            throw Unauthenticated("the authorization header must be 'Bearer TOKEN'");
        var (caller, error) = await credentials.ValidateAsync(header[7..].Trim());
        if (caller is null) throw Unauthenticated(error!);
        return (caller, AccessPolicy.ClassOf(context.Method));
    }

    private static RpcException Unauthenticated(string message) => new(new Status(StatusCode.Unauthenticated, message));

    /// <summary>Runs a check on each message before handing it on.</summary>
    private sealed class GuardedStreamReader<T>(IAsyncStreamReader<T> inner, Action<T> check) : IAsyncStreamReader<T>
    {
        public T Current => inner.Current;

        public async Task<bool> MoveNext(CancellationToken cancellationToken)
        {
            if (!await inner.MoveNext(cancellationToken)) return false;
            check(inner.Current);
            return true;
        }
    }
}
