namespace Scheduler.Api.Services;

using Grpc.Core;
using Grpc.Core.Interceptors;
using Scheduler.Core.Lifecycle;
using Scheduler.Grains;

/// <summary>
/// Maps what grains throw to gRPC status codes, in one place: bad arguments are INVALID_ARGUMENT, missing things
/// NOT_FOUND, conflicting creates ALREADY_EXISTS, illegal state changes FAILED_PRECONDITION, the caller's own
/// deadline or hang-up DEADLINE_EXCEEDED / CANCELLED, an unreachable silo UNAVAILABLE.
/// </summary>
internal sealed class ErrorInterceptor : Interceptor
{
    public override async Task<TResponse> UnaryServerHandler<TRequest, TResponse>(TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        try { return await continuation(request, context); }
        catch (Exception ex) when (Map(ex, context) is { } mapped) { throw mapped; }
    }

    public override async Task<TResponse> ClientStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream, ServerCallContext context, ClientStreamingServerMethod<TRequest, TResponse> continuation)
    {
        try { return await continuation(requestStream, context); }
        catch (Exception ex) when (Map(ex, context) is { } mapped) { throw mapped; }
    }

    public override async Task ServerStreamingServerHandler<TRequest, TResponse>(TRequest request, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        try { await continuation(request, responseStream, context); }
        catch (Exception ex) when (Map(ex, context) is { } mapped) { throw mapped; }
    }

    public override async Task DuplexStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, DuplexStreamingServerMethod<TRequest, TResponse> continuation)
    {
        try { await continuation(requestStream, responseStream, context); }
        catch (Exception ex) when (Map(ex, context) is { } mapped) { throw mapped; }
    }

    private static RpcException? Map(Exception ex, ServerCallContext context) => ex switch
    {
        RpcException => null,
        OperationCanceledException when context.Deadline <= DateTime.UtcNow => new RpcException(new Status(StatusCode.DeadlineExceeded, "deadline exceeded")),
        OperationCanceledException when context.CancellationToken.IsCancellationRequested => new RpcException(new Status(StatusCode.Cancelled, "cancelled by the caller")),
        JobConflictException => new RpcException(new Status(StatusCode.AlreadyExists, ex.Message)),
        JobTransitionException or InvalidJobTransitionException => new RpcException(new Status(StatusCode.FailedPrecondition, ex.Message)),
        AgentSessionEndedException => new RpcException(new Status(StatusCode.Aborted, ex.Message)),
        StaleEpochException => new RpcException(new Status(StatusCode.FailedPrecondition, ex.Message)),
        KeyNotFoundException => new RpcException(new Status(StatusCode.NotFound, ex.Message)),
        ArgumentException => new RpcException(new Status(StatusCode.InvalidArgument, ex.Message)),
        TimeoutException => new RpcException(new Status(StatusCode.Unavailable, "the scheduler did not answer in time: " + ex.Message)),
        // A silo that died mid-call, no silo reachable from a gateway, or a gateway shedding load: the call may succeed
        // if retried (with the same request id for a create), so UNAVAILABLE rather than UNKNOWN.
        Orleans.Runtime.OrleansMessageRejectionException or Orleans.Runtime.GatewayTooBusyException or Orleans.Runtime.Messaging.ConnectionFailedException
            => new RpcException(new Status(StatusCode.Unavailable, "the scheduler cluster is not reachable right now; retry: " + ex.Message)),
        _ => null,
    };
}
