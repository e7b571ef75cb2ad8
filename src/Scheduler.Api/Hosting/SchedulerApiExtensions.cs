namespace Scheduler.Api.Hosting;

using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Scheduler.Api.Services;

public static class SchedulerApiExtensions
{
    /// <summary>Registers the gRPC services, the error mapping, server reflection and the standard health service.</summary>
    public static IServiceCollection AddSchedulerApi(this IServiceCollection services)
    {
        services.AddGrpc(o => o.Interceptors.Add<ErrorInterceptor>());
        services.AddGrpcReflection();
        services.AddGrpcHealthChecks().AddCheck("scheduler", () => Microsoft.Extensions.Diagnostics.HealthChecks.HealthCheckResult.Healthy());
        return services;
    }

    /// <summary>Maps JobService, TelemetryService, FleetService, ReplayService (refusing calls outside replay mode), grpc.health.v1.Health and reflection.</summary>
    public static IEndpointRouteBuilder MapSchedulerApi(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGrpcService<JobGrpcService>();
        endpoints.MapGrpcService<TelemetryGrpcService>();
        endpoints.MapGrpcService<FleetGrpcService>();
        endpoints.MapGrpcService<ReplayGrpcService>();
        endpoints.MapGrpcHealthChecksService();
        endpoints.MapGrpcReflectionService();
        return endpoints;
    }
}
