namespace Scheduler.Host.Hosting;

using Microsoft.Extensions.Options;
using Scheduler.Api.Hosting;
using Scheduler.Api.Security;
using Scheduler.Host.Demo;

/// <summary>
/// The embedded host, composed in one place: Program.cs, the end-to-end tests and the load tool all build it here,
/// so they run the same registrations in the same order.
/// </summary>
public static class SchedulerApp
{
    /// <param name="options">Command line (in <see cref="WebApplicationOptions.Args"/>) and content root.</param>
    /// <param name="configure">Runs before any registration: tests and tools put their clock or exporters here.</param>
    /// <param name="telemetry">OpenTelemetry (traces, metrics, logs, <c>/metrics</c>); off only to measure its cost.</param>
    public static WebApplication Build(WebApplicationOptions options, Action<WebApplicationBuilder>? configure = null, bool telemetry = true)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions
        {
            Args = SchedulerHostOptions.NormaliseArgs(options.Args ?? []),
            ContentRootPath = options.ContentRootPath,
            EnvironmentName = options.EnvironmentName,
            ApplicationName = options.ApplicationName ?? typeof(SchedulerApp).Assembly.GetName().Name,
        });
        PollingConfigFiles.Apply(builder.Configuration, builder.Environment);
        configure?.Invoke(builder);
        builder.AddSchedulerHost();
        builder.AddSchedulerAuth(); // keys and tokens (section Scheduler:Auth); the API's front door checks them
        // Co-hosted (the default): this process serves the API. Behind gateways (--no-grpc) it is a silo only, and the
        // gateways serve the API, TLS endpoint included.
        var host = builder.Configuration.GetSection(SchedulerHostOptions.Section).Get<SchedulerHostOptions>() ?? new();
        if (!host.ServeGrpc && !string.IsNullOrEmpty(builder.Configuration[$"{SchedulerTlsOptions.Section}:Port"]))
            throw new OptionsValidationException(SchedulerTlsOptions.Section, typeof(SchedulerTlsOptions),
                [$"{SchedulerTlsOptions.Section}:Port (--tls-port) serves the gRPC API, which this silo does not (--no-grpc): set it on the gateways"]);
        if (host.ServeGrpc) builder.AddSchedulerTls(); // the optional TLS endpoint, with plant client certificates (section Scheduler:Tls)
        if (telemetry) builder.AddSchedulerTelemetry();
        builder.AddSchedulerClustering(); // the silo: embedded (SQLite) or a Redis cluster, per section Cluster
        if (host.ServeGrpc) builder.Services.AddSchedulerApi();
        builder.AddInnerMongoliaFleet();

        var app = builder.Build();
        if (host.ServeGrpc) app.MapSchedulerApi();
        app.MapSchedulerHealth();
        if (telemetry) app.MapSchedulerMetrics(host.HttpPort);
        return app;
    }

    public static WebApplication Build(string[] args, Action<WebApplicationBuilder>? configure = null, bool telemetry = true) =>
        Build(new WebApplicationOptions { Args = args }, configure, telemetry);
}
