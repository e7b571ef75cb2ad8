namespace Scheduler.Api.Hosting;

using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Scheduler.Grains;
using Grpc.AspNetCore.Server;
using Microsoft.Extensions.Options;
using Scheduler.Api.Security;
using Scheduler.Api.Services;

public static class SchedulerApiExtensions
{
    /// <summary>
    /// Registers the gRPC services, the security front door (authentication, limits, authorization; it needs a
    /// <see cref="SchedulerCredentials"/> singleton, which the host registers from its keys), the error mapping, server
    /// reflection and the standard health service. Limits are section <c>Scheduler:Limits</c>, validated at start.
    /// </summary>
    public static IServiceCollection AddSchedulerApi(this IServiceCollection services)
    {
        services.AddOptions<SchedulerLimitsOptions>().BindConfiguration(SchedulerLimitsOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<SchedulerLimitsOptions>, SchedulerLimitsOptionsValidator>();
        services.AddOptions<AgentServiceOptions>().BindConfiguration(AgentServiceOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<AgentServiceOptions>, AgentServiceOptionsValidator>();
        services.AddSingleton<CallLimiter>();
        services.TryAddSingleton(TelemetryTracing.Off); // the host's telemetry registers the configured one first
        services.TryAddSingleton(TelemetryHold.Off); // a co-hosted silo registers the one its dispatchers hold
        services.AddOptions<SchedulerTlsOptions>().BindConfiguration(SchedulerTlsOptions.Section);
        services.AddSingleton<PlantCertificates>();
        services.AddSingleton<AccessPolicy>();
        // Security first: an unauthenticated, over-limit or denied call is refused before the error mapping or a service runs.
        services.AddGrpc(o =>
        {
            o.Interceptors.Add<SecurityInterceptor>();
            o.Interceptors.Add<ErrorInterceptor>();
        });
        services.AddStrictRequestParsing(); // undecodable requests are INVALID_ARGUMENT, not UNKNOWN
        services.AddOptions<GrpcServiceOptions>().Configure<IOptions<SchedulerLimitsOptions>>((o, limits) => o.MaxReceiveMessageSize = limits.Value.MaxMessageBytes);
        services.AddGrpcReflection();
        services.AddGrpcHealthChecks().AddCheck("scheduler", () => Microsoft.Extensions.Diagnostics.HealthChecks.HealthCheckResult.Healthy());
        return services;
    }

    /// <summary>Maps JobService, TelemetryService, FleetService, ReplayService (refusing calls outside replay mode), AgentService, grpc.health.v1.Health and reflection.</summary>
    public static IEndpointRouteBuilder MapSchedulerApi(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGrpcService<JobGrpcService>();
        endpoints.MapGrpcService<TelemetryGrpcService>();
        endpoints.MapGrpcService<FleetGrpcService>();
        endpoints.MapGrpcService<ReplayGrpcService>();
        endpoints.MapGrpcService<AgentGrpcService>();
        endpoints.MapGrpcHealthChecksService();
        endpoints.MapGrpcReflectionService();
        return endpoints;
    }
}
