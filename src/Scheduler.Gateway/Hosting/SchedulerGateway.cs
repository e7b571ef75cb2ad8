namespace Scheduler.Gateway.Hosting;

using Microsoft.Extensions.Options;
using Scheduler.Api.Hosting;

/// <summary>
/// The gateway, composed in one place (Program.cs and the tests build it here): options and endpoints, token keys,
/// telemetry, the Orleans client, then the same gRPC API the co-hosted silo serves.
/// </summary>
public static class SchedulerGateway
{
    /// <summary>The gateway's <c>service.name</c> in traces and metrics.</summary>
    public const string ServiceName = "green-scheduler-gateway";

    public static WebApplication Build(string[] args)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions
        {
            Args = SchedulerGatewayOptions.NormaliseArgs(args),
            ApplicationName = typeof(SchedulerGateway).Assembly.GetName().Name,
        });
        builder.AddSchedulerGatewayHost(); // ports, health (/healthz live, /readyz connected), logging defaults
        builder.AddSchedulerGatewayAuth(); // the silos' signing keys, required
        builder.AddSchedulerTls(); // the optional TLS endpoint for plants' client certificates, as on a co-hosted silo
        builder.AddSchedulerTelemetry(ServiceName);
        builder.AddSchedulerClusterClient(); // the Orleans client over Redis membership, section Cluster
        builder.Services.AddSchedulerApi();
        builder.Services.AddSchedulerClusterGate();

        var app = builder.Build();
        var options = app.Services.GetRequiredService<IOptions<SchedulerGatewayOptions>>().Value;
        app.MapSchedulerApi();
        app.MapSchedulerGatewayHealth();
        app.MapSchedulerMetrics(options.HttpPort);
        return app;
    }
}
