namespace Scheduler.Gateway.Hosting;

using Grpc.Core;
using Grpc.Core.Interceptors;

/// <summary>
/// Refuses scheduler calls with UNAVAILABLE while no silo is reachable, at once and with a reason, instead of letting
/// them wait out Orleans' response timeout. Health and reflection still answer: they are how callers find out.
/// </summary>
internal sealed class ClusterConnectionInterceptor(ClusterConnection connection) : Interceptor
{
    private static bool Gated(string method) => method.StartsWith("/scheduler.", StringComparison.Ordinal);

    private void ThrowIfDisconnected(ServerCallContext context)
    {
        if (!connection.IsConnected && Gated(context.Method))
            throw new RpcException(new Status(StatusCode.Unavailable, "the gateway is not connected to the scheduler cluster (no silo reachable); retry"));
    }

    public override Task<TResponse> UnaryServerHandler<TRequest, TResponse>(TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        ThrowIfDisconnected(context);
        return continuation(request, context);
    }

    public override Task<TResponse> ClientStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream, ServerCallContext context, ClientStreamingServerMethod<TRequest, TResponse> continuation)
    {
        ThrowIfDisconnected(context);
        return continuation(requestStream, context);
    }

    public override Task ServerStreamingServerHandler<TRequest, TResponse>(TRequest request, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        ThrowIfDisconnected(context);
        return continuation(request, responseStream, context);
    }
}
