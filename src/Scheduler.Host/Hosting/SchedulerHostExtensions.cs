namespace Scheduler.Host.Hosting;

using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Options;
using OpenTelemetry.Metrics;
using Orleans.Configuration;
using Orleans.Providers;
using Orleans.Runtime.Hosting;
using Scheduler.Grains;
using Scheduler.Grains.Hosting;
using Scheduler.Storage.Sqlite;
using Scheduler.Storage.Sqlite.Hosting;

public static class SchedulerHostExtensions
{
    /// <summary>
    /// Host options (validated now: a bad port or data directory stops the start with a clear message), the two
    /// loopback endpoints (gRPC on HTTP/2 only, health on HTTP/1.1), and the scheduler clock.
    /// </summary>
    public static WebApplicationBuilder AddSchedulerHost(this WebApplicationBuilder builder)
    {
        var options = builder.Configuration.GetSection(SchedulerHostOptions.Section).Get<SchedulerHostOptions>() ?? new();
        var errors = options.Validate();
        if (errors.Count > 0) throw new OptionsValidationException(SchedulerHostOptions.Section, typeof(SchedulerHostOptions), errors);
        builder.Services.AddSingleton(Options.Create(options));
        Directory.CreateDirectory(options.DataDir);

        builder.WebHost.ConfigureKestrel(k =>
        {
            if (options.ServeGrpc) k.ListenLocalhost(options.GrpcPort, o => o.Protocols = HttpProtocols.Http2);
            k.ListenLocalhost(options.HttpPort, o => o.Protocols = HttpProtocols.Http1);
        });

        // Only the scheduler's clock runs fast (or, in replay, stands still until moved); Orleans keeps real time.
        if (options.Replay)
        {
            builder.Services.AddSingleton(new SchedulerClock(new ReplayClock()));
            builder.Services.PostConfigure<SchedulerOptions>(o =>
            {
                o.AutoTick = false;
                o.PromptDispatch = false;
            });
        }
        else if (options.EffectiveSpeed != 1)
        {
            var clock = new AcceleratedTimeProvider(options.EffectiveSpeed, Path.Combine(options.DataDir, "clock.txt"));
            builder.Services.AddSingleton(clock);
            builder.Services.AddSingleton(new SchedulerClock(clock));
        }
        builder.Services.AddHealthChecks();
        return builder;
    }

    /// <summary>One embedded silo: localhost clustering, SQLite grain storage in the data directory (only in the activations for a replay), the scheduler grains.</summary>
    public static WebApplicationBuilder AddSchedulerSilo(this WebApplicationBuilder builder)
    {
        var options = builder.Configuration.GetSection(SchedulerHostOptions.Section).Get<SchedulerHostOptions>() ?? new();
        builder.UseOrleans(silo =>
        {
            silo.UseLocalhostClustering(options.SiloPort, options.GatewayPort);
            if (options.Replay)
            {
                // A replay is recomputed from its inputs, never recovered: state stays in the activations, which
                // must then live as long as the replay.
                silo.Services.AddGrainStorage(ProviderConstants.DEFAULT_STORAGE_PROVIDER_NAME, (_, _) => new ActivationOnlyGrainStorage());
                silo.Configure<GrainCollectionOptions>(o => o.CollectionAge = TimeSpan.FromDays(7));
            }
            else
            {
                silo.AddSqliteGrainStorageAsDefault(o => o.DatabasePath = Path.Combine(options.DataDir, "scheduler.db"));
                builder.Services.ConfigureOpenTelemetryMeterProvider(m => m.AddMeter(SqliteGrainStorage.MeterName));
            }
            silo.AddSchedulerGrains(builder.Configuration);
        });
        return builder;
    }

    /// <summary><c>/healthz</c> on the HTTP/1.1 port only.</summary>
    public static WebApplication MapSchedulerHealth(this WebApplication app)
    {
        var port = app.Services.GetRequiredService<IOptions<SchedulerHostOptions>>().Value.HttpPort;
        app.MapHealthChecks("/healthz").RequireHost($"*:{port}");
        return app;
    }
}
