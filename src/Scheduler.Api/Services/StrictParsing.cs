namespace Scheduler.Api.Services;

using System.Reflection;
using Google.Protobuf;
using Grpc.AspNetCore.Server.Model;
using Grpc.Core;
using Microsoft.Extensions.DependencyInjection;

/// <summary>
/// Binds every gRPC service as grpc-dotnet's own binder does (the generated <c>BindService</c>), except that each
/// request is parsed by a marshaller that turns a message protobuf cannot decode (truncated, wrong wire type, invalid
/// UTF-8) into INVALID_ARGUMENT. Without it, grpc-dotnet parses a unary request before any interceptor runs and
/// answers an undecodable one with UNKNOWN, as if the server had failed.
/// </summary>
internal sealed class StrictParsingMethodProvider<TService>(IServiceProvider services) : IServiceMethodProvider<TService>
    where TService : class
{
    public void OnServiceMethodDiscovery(ServiceMethodProviderContext<TService> context)
    {
        var serviceBase = typeof(TService).BaseType;
        var bind = serviceBase?.DeclaringType?.GetMethod("BindService", BindingFlags.Public | BindingFlags.Static, [typeof(ServiceBinderBase), serviceBase]);
        if (bind is null)
        {
            if (StrictParsingExtensions.DefaultProvider is { } fallback)
                ((IServiceMethodProvider<TService>)ActivatorUtilities.CreateInstance(services, fallback.MakeGenericType(typeof(TService)))).OnServiceMethodDiscovery(context);
            return;
        }
        bind.Invoke(null, [new Binder(context), null]);
    }

    private sealed class Binder(ServiceMethodProviderContext<TService> context) : ServiceBinderBase
    {
        public override void AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, UnaryServerMethod<TRequest, TResponse>? handler) =>
            context.AddUnaryMethod(Strict(method), Metadata(method), Invoker<Grpc.AspNetCore.Server.Model.UnaryServerMethod<TService, TRequest, TResponse>>(method));

        public override void AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, ClientStreamingServerMethod<TRequest, TResponse>? handler) =>
            context.AddClientStreamingMethod(Strict(method), Metadata(method), Invoker<Grpc.AspNetCore.Server.Model.ClientStreamingServerMethod<TService, TRequest, TResponse>>(method));

        public override void AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, ServerStreamingServerMethod<TRequest, TResponse>? handler) =>
            context.AddServerStreamingMethod(Strict(method), Metadata(method), Invoker<Grpc.AspNetCore.Server.Model.ServerStreamingServerMethod<TService, TRequest, TResponse>>(method));

        public override void AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, DuplexStreamingServerMethod<TRequest, TResponse>? handler) =>
            context.AddDuplexStreamingMethod(Strict(method), Metadata(method), Invoker<Grpc.AspNetCore.Server.Model.DuplexStreamingServerMethod<TService, TRequest, TResponse>>(method));

        /// <summary>The service's method of that name as an open-instance delegate (the service is created per call).</summary>
        private static TDelegate Invoker<TDelegate>(IMethod method) where TDelegate : Delegate
        {
            var parameters = typeof(TDelegate).GetMethod("Invoke")!.GetParameters().Skip(1).Select(p => p.ParameterType).ToArray();
            var target = typeof(TService).GetMethod(method.Name, BindingFlags.Public | BindingFlags.Instance, parameters)
                ?? throw new InvalidOperationException($"{typeof(TService).Name} has no method {method.Name}");
            return (TDelegate)Delegate.CreateDelegate(typeof(TDelegate), target);
        }

        /// <summary>As grpc-dotnet does: the service's and the method's attributes are the endpoint's metadata.</summary>
        private static List<object> Metadata(IMethod method)
        {
            var metadata = new List<object>(typeof(TService).GetCustomAttributes(inherit: true));
            if (typeof(TService).GetMethod(method.Name) is { } m) metadata.AddRange(m.GetCustomAttributes(inherit: true));
            return metadata;
        }

        private static Method<TRequest, TResponse> Strict<TRequest, TResponse>(Method<TRequest, TResponse> method) where TRequest : class where TResponse : class =>
            new(method.Type, method.ServiceName, method.Name, StrictMarshaller(method.RequestMarshaller), method.ResponseMarshaller);

        private static Marshaller<T> StrictMarshaller<T>(Marshaller<T> inner) => new(inner.ContextualSerializer, context =>
        {
            try { return inner.ContextualDeserializer(context); }
            catch (InvalidProtocolBufferException ex)
            {
                throw new RpcException(new Status(StatusCode.InvalidArgument, $"the request is not a valid {typeof(T).Name} message: {ex.Message}"));
            }
        });
    }
}

internal static class StrictParsingExtensions
{
    /// <summary>grpc-dotnet's binder (internal), kept for a service without a generated <c>BindService</c>.</summary>
    internal static Type? DefaultProvider { get; private set; }

    /// <summary>Replaces grpc-dotnet's service binder with <see cref="StrictParsingMethodProvider{TService}"/>. Call after AddGrpc.</summary>
    public static IServiceCollection AddStrictRequestParsing(this IServiceCollection services)
    {
        var binder = services.Single(d => d.ServiceType == typeof(IServiceMethodProvider<>) && d.ImplementationType?.Name.StartsWith("BinderServiceMethodProvider", StringComparison.Ordinal) == true);
        DefaultProvider = binder.ImplementationType;
        services.Remove(binder);
        services.AddSingleton(typeof(IServiceMethodProvider<>), typeof(StrictParsingMethodProvider<>));
        return services;
    }
}
