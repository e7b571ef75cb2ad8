namespace Scheduler.Api.Security;

using Grpc.Core;
using Grpc.Core.Interceptors;
using Microsoft.Extensions.Options;

/// <summary>
/// The API's front door, first in the interceptor chain. For every call but health and reflection, in this order:
/// authenticate the bearer token, or a plant's client certificate on the TLS endpoint (UNAUTHENTICATED), take the caller's rate and concurrency permits (RESOURCE_EXHAUSTED),
/// authorize the request (PERMISSION_DENIED), then run the call, unary calls under the server-side deadline. The
/// order is deliberate: limits come before authorization because authorizing a job call reads the job's grain, and a
/// flood of denied calls must not reach the grains either.
/// </summary>
public sealed class SecurityInterceptor(
    SchedulerCredentials credentials, PlantCertificates plantCertificates, AccessPolicy policy, CallLimiter limiter, IOptions<SchedulerLimitsOptions> limits) : Interceptor
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
        // The stream rule, as for any bad sample: a sample for another plant, or over the caller's rate, is dropped
        // before the service sees it, counted and described in the reply; the stream goes on. So a stream never fails
        // half-way with some samples applied, and a dropped sample never reaches a grain.
        var guard = new GuardedStreamReader<TRequest>(requestStream, message =>
        {
            if (message is not V1.GenerationSample sample) return null;
            try
            {
                limiter.TakePermit(caller, cls);
                AccessPolicy.AuthorizeSample(caller, sample);
                return null;
            }
            catch (RpcException ex)
            {
                return new V1.SampleRejection { PlantId = sample.PlantId, Field = "plant_id", Description = $"{ex.StatusCode.ToCanonicalName()}: {ex.Status.Detail}" };
            }
        });
        var response = await continuation(guard, context);
        if (response is V1.PushGenerationResponse reply) guard.MergeInto(reply);
        return response;
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
        // A token, when sent, is the credential; otherwise a plant's client certificate (mutual TLS), if it presented one.
        if (string.IsNullOrEmpty(header) && context.GetHttpContext().Connection.ClientCertificate is { } certificate)
        {
            var (plant, refusal) = plantCertificates.Authenticate(certificate);
            if (plant is null) throw Unauthenticated(refusal!);
            return (plant, AccessPolicy.ClassOf(context.Method));
        }
        if (string.IsNullOrEmpty(header))
            throw Unauthenticated("no credential: send 'authorization: Bearer TOKEN' (the CLI: --token, SCHEDULER_TOKEN or the credential file the host writes)"
                + (plantCertificates.Enabled ? ", or, as a plant on the TLS endpoint, a client certificate" : ""));
        if (!header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) || header.Length <= 7)
            throw Unauthenticated("the authorization header must be 'Bearer TOKEN'");
        var (caller, error) = await credentials.ValidateAsync(header[7..].Trim());
        if (caller is null) throw Unauthenticated(error!);
        context.UserState[typeof(CallerIdentity)] = caller; // for checks only the service can make (an agent's site)
        return (caller, AccessPolicy.ClassOf(context.Method));
    }

    private static RpcException Unauthenticated(string message) => new(new Status(StatusCode.Unauthenticated, message));

    /// <summary>
    /// Hands on the messages that pass a check and keeps the ones that do not, with their position in the stream, so
    /// the reply can count and describe them as if the service had rejected them.
    /// </summary>
    private sealed class GuardedStreamReader<T>(IAsyncStreamReader<T> inner, Func<T, V1.SampleRejection?> check) : IAsyncStreamReader<T>
    {
        private const int MaxDescribed = 100;
        // In stream order. Only drops are kept, not the position of every message passed (that list grew by one per
        // sample for the stream's life): the service numbers what it saw, and each earlier drop shifts a number by one.
        private readonly List<V1.SampleRejection> _dropped = [];
        private long _index;

        public T Current => inner.Current;

        public async Task<bool> MoveNext(CancellationToken cancellationToken)
        {
            while (await NextAsync(cancellationToken) is var (more, undecodable) && more)
            {
                var index = _index++;
                if (undecodable is not null)
                {
                    undecodable.Index = index;
                    _dropped.Add(undecodable);
                    continue;
                }
                if (check(inner.Current) is not { } rejection) return true;
                rejection.Index = index;
                _dropped.Add(rejection);
            }
            return false;
        }

        /// <summary>
        /// The next message; one protobuf cannot decode is, like any bad sample, dropped and described (the gRPC
        /// frame was read whole, so the stream goes on with the next one).
        /// </summary>
        // A ValueTask: a message already buffered is read without allocating a task for the pair (once per sample).
        private async ValueTask<(bool More, V1.SampleRejection? Undecodable)> NextAsync(CancellationToken cancellationToken)
        {
            try { return (await inner.MoveNext(cancellationToken), null); }
            catch (RpcException ex) when (ex.StatusCode == StatusCode.InvalidArgument && typeof(T) == typeof(V1.GenerationSample))
            {
                return (true, new V1.SampleRejection { Field = "", Description = $"INVALID_ARGUMENT: {ex.Status.Detail}" });
            }
        }

        /// <summary>Adds the dropped samples to the reply, with every index counted in the whole stream.</summary>
        public void MergeInto(V1.PushGenerationResponse reply)
        {
            if (_dropped.Count == 0) return;
            foreach (var r in reply.Rejections) r.Index = StreamIndex(r.Index);
            reply.Rejected += _dropped.Count;
            var all = reply.Rejections.Concat(_dropped).OrderBy(r => r.Index).Take(MaxDescribed).ToList();
            reply.Rejections.Clear();
            reply.Rejections.AddRange(all);
        }

        private long StreamIndex(long passedIndex)
        {
            var index = passedIndex;
            foreach (var d in _dropped)
            {
                if (d.Index > index) break;
                index++;
            }
            return index;
        }
    }
}

internal static class StatusCodeNames
{
    /// <summary>The canonical name (PERMISSION_DENIED), as the gRPC docs and other clients write it.</summary>
    public static string ToCanonicalName(this StatusCode code) =>
        string.Concat(code.ToString().Select((c, i) => i > 0 && char.IsUpper(c) ? "_" + c : c.ToString())).ToUpperInvariant();
}
