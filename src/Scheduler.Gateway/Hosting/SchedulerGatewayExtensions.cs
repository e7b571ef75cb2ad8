namespace Scheduler.Gateway.Hosting;

using Grpc.AspNetCore.Server;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Orleans.Serialization;
using Scheduler.Api.Hosting;
using Scheduler.Grains;
using StackExchange.Redis;

public static class SchedulerGatewayExtensions
{
    /// <summary>Health checks tagged so are readiness only: <c>/readyz</c> and gRPC health include them, <c>/healthz</c> does not.</summary>
    private const string ReadinessTag = "ready";

    /// <summary>
    /// Options (section <c>Gateway</c>, validated now), the two endpoints (gRPC on HTTP/2 only, health and metrics on
    /// HTTP/1.1), and concurrent start, so health answers (not ready) while the Orleans client is still looking for silos.
    /// </summary>
    public static WebApplicationBuilder AddSchedulerGatewayHost(this WebApplicationBuilder builder)
    {
        var options = builder.Configuration.GetSection(SchedulerGatewayOptions.Section).Get<SchedulerGatewayOptions>() ?? new();
        var errors = options.Validate();
        if (errors.Count > 0) throw new OptionsValidationException(SchedulerGatewayOptions.Section, typeof(SchedulerGatewayOptions), errors);
        builder.Services.AddSingleton(Options.Create(options));

        builder.WebHost.ConfigureKestrel(k =>
        {
            k.Listen(options.EffectiveListenAddress, options.GrpcPort, o => o.Protocols = HttpProtocols.Http2);
            k.Listen(options.EffectiveListenAddress, options.HttpPort, o => o.Protocols = HttpProtocols.Http1);
        });
        // Kestrel starts beside the Orleans client instead of after it: /healthz and /readyz answer from the first second.
        builder.Services.Configure<HostOptions>(o => o.ServicesStartConcurrently = true);
        // Orleans' client logs every refused connection while silos come and go; ClusterConnection says it once.
        builder.Logging.AddFilter("Orleans", LogLevel.Warning);
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        // An unready probe is an error log line per probe there; ClusterConnection logs the changes instead.
        builder.Logging.AddFilter("Microsoft.Extensions.Diagnostics.HealthChecks", LogLevel.Critical);
        builder.Services.AddHealthChecks();
        return builder;
    }

    /// <summary>
    /// Token keys (section <c>Scheduler:Auth</c>): configured keys are required in every mode, the same the silos use,
    /// since a gateway has no data directory to keep a generated key in and its tokens must be the silos' tokens. In
    /// development mode it writes an operator token for its own address to the CLI's credential file.
    /// </summary>
    public static WebApplicationBuilder AddSchedulerGatewayAuth(this WebApplicationBuilder builder)
    {
        var auth = builder.AddSchedulerCredentials(developmentKey: null,
            whyKeysAreRequired: "the gateway validates the same tokens as the silos, so configure their key (--Scheduler:Auth:SigningKeys:0:Id=ID --Scheduler:Auth:SigningKeys:0:Key=BASE64)");
        if (auth.Mode == Scheduler.Api.Security.AuthMode.Development) builder.Services.AddHostedService<GatewayDevelopmentCredentials>();
        return builder;
    }

    /// <summary>
    /// The Orleans client (section <c>Cluster</c>, validated now): Redis membership to find silos, re-read every
    /// <see cref="SchedulerGatewayOptions.GatewayListRefreshPeriod"/>; retries the first connection for as long as it
    /// takes; activity propagation, so a request's trace continues into the grains; the scheduler's serializers.
    /// </summary>
    public static WebApplicationBuilder AddSchedulerClusterClient(this WebApplicationBuilder builder)
    {
        var cluster = builder.Configuration.GetSection(GatewayClusterOptions.Section).Get<GatewayClusterOptions>() ?? new();
        var errors = cluster.Validate();
        if (errors.Count > 0) throw new OptionsValidationException(GatewayClusterOptions.Section, typeof(GatewayClusterOptions), errors);
        var gateway = builder.Configuration.GetSection(SchedulerGatewayOptions.Section).Get<SchedulerGatewayOptions>() ?? new();

        var redis = ConfigurationOptions.Parse(cluster.RedisConnectionString);
        // Keep retrying while Redis restarts rather than failing the gateway's start outright.
        redis.AbortOnConnectFail = false;
        builder.Services.AddSingleton<ClusterConnection>();
        builder.Services.AddSingleton<IClientConnectionRetryFilter>(sp => sp.GetRequiredService<ClusterConnection>());
        builder.Services.AddSingleton<IClusterConnectionStatusObserver>(sp => sp.GetRequiredService<ClusterConnection>());
        builder.Services.AddHostedService(sp => sp.GetRequiredService<ClusterConnection>());
        builder.Services.AddHealthChecks().AddCheck<ClusterConnection>("cluster", tags: [ReadinessTag]);
        builder.UseOrleansClient(client =>
        {
            client.Configure<ClusterOptions>(o => { o.ClusterId = cluster.ClusterId; o.ServiceId = cluster.ServiceId; });
            client.UseRedisClustering(o => o.ConfigurationOptions = redis.Clone());
            client.Configure<GatewayOptions>(o => o.GatewayListRefreshPeriod = gateway.GatewayListRefreshPeriod);
            client.Services.TryAddSingleton(System.Diagnostics.DistributedContextPropagator.Current);
            client.AddOutgoingGrainCallFilter<GrainCallTracing>();
            client.Services.AddSerializer(s => s.AddSchedulerSerializers());
        });
        // The API's services take the scheduler's clock for arrival times and deadlines. Silos behind gateways run on
        // the system clock (no demo speed-up), and so does the gateway.
        builder.Services.AddSingleton(SchedulerClock.System);
        return builder;
    }

    /// <summary>Refuses scheduler calls with UNAVAILABLE while no silo is reachable (after the API's own interceptors).</summary>
    public static IServiceCollection AddSchedulerClusterGate(this IServiceCollection services)
    {
        services.Configure<GrpcServiceOptions>(o => o.Interceptors.Add<ClusterConnectionInterceptor>());
        return services;
    }

    /// <summary><c>/healthz</c> (alive: the process serves) and <c>/readyz</c> (and connected to the cluster), on the HTTP/1.1 port only.</summary>
    public static WebApplication MapSchedulerGatewayHealth(this WebApplication app)
    {
        var port = app.Services.GetRequiredService<IOptions<SchedulerGatewayOptions>>().Value.HttpPort;
        // Liveness must not follow the cluster: restarting gateways does not bring silos back.
        app.MapHealthChecks("/healthz", new HealthCheckOptions { Predicate = c => !c.Tags.Contains(ReadinessTag) }).RequireHost($"*:{port}");
        app.MapHealthChecks("/readyz").RequireHost($"*:{port}");
        return app;
    }
}
