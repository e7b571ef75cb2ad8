namespace Scheduler.Host.Demo;

using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Scheduler.Api.Client;
using Scheduler.Api.Security;
using Microsoft.Extensions.Options;
using Scheduler.Api.V1;
using Scheduler.Grains;
using GenerationSample = Scheduler.Api.V1.GenerationSample;
using JobSpec = Scheduler.Api.V1.JobSpec;
using Scheduler.Grains.Hosting;
using Scheduler.Host.Hosting;

/// <summary>Configures the built-in fleet on the first start (an empty fleet); later starts keep what operators changed.</summary>
internal sealed class FleetBootstrap(IGrainFactory grains, ILogger<FleetBootstrap> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var fleet = grains.Get<IFleetGrain>(IFleetGrain.Key);
        if ((await fleet.GetConfigAsync()).Sites.Count > 0) return;
        foreach (var site in InnerMongoliaFleet.Sites) await fleet.UpsertSiteAsync(site);
        foreach (var plant in InnerMongoliaFleet.Plants) await fleet.UpsertPlantAsync(plant);
        foreach (var link in InnerMongoliaFleet.Links) await fleet.UpsertLinkAsync(link);
        logger.LogInformation("Configured the built-in {Region} fleet: {Sites} sites, {Plants} plants", InnerMongoliaFleet.Region, InnerMongoliaFleet.Sites.Count, InnerMongoliaFleet.Plants.Count);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}

/// <summary>
/// Plays the bundled weather as the six plants' telemetry, through the public TelemetryService over loopback gRPC,
/// exactly as real plants would push it: one sample per plant per real second, stamped with scheduler time, with a
/// 6-hour forecast taken from the series.
/// </summary>
internal sealed class DemoTelemetryPlayer(IOptions<SchedulerHostOptions> options, SchedulerClock clock, SchedulerCredentials credentials, ILogger<DemoTelemetryPlayer> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var weather = DemoWeather.Load(Path.Combine(AppContext.BaseDirectory, "Demo", "inner-mongolia-demo.csv"));
        // The demo is a client like any other: it holds an operator token minted from the host's own keys.
        using var channel = SchedulerChannel.Create($"http://127.0.0.1:{options.Value.GrpcPort}", credentials.MintOperator("demo", TimeSpan.FromDays(365)));
        var client = new TelemetryService.TelemetryServiceClient(channel);
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1));
        var saved = 0;
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                try
                {
                    using var call = client.PushGeneration(cancellationToken: stoppingToken);
                    var now = clock.GetUtcNow();
                    foreach (var plant in InnerMongoliaFleet.Plants)
                        await call.RequestStream.WriteAsync(Sample(weather, plant, now), stoppingToken);
                    await call.RequestStream.CompleteAsync();
                    var reply = await call;
                    if (reply.Rejected > 0) logger.LogWarning("Demo telemetry: {Rejected} samples rejected: {First}", reply.Rejected, reply.Rejections.FirstOrDefault());
                }
                catch (RpcException ex) when (ex.StatusCode == StatusCode.Unavailable)
                {
                    // The gRPC endpoint is not up yet: try again next second.
                }
                if (++saved % 5 == 0 && clock.Time is AcceleratedTimeProvider accelerated) accelerated.Save();
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        finally
        {
            (clock.Time as AcceleratedTimeProvider)?.Save();
        }
    }

    private static GenerationSample Sample(DemoWeather weather, Core.Model.PlantSpec plant, DateTimeOffset now)
    {
        var column = $"{plant.SiteId}_{(plant.Kind == Core.Model.PlantKind.Wind ? "wind" : "solar")}_cf";
        var sample = new GenerationSample
        {
            PlantId = plant.Id,
            Time = Timestamp.FromDateTimeOffset(now),
            Megawatts = weather.At(column, now) * plant.NameplateMegawatts,
            OutsideCelsius = weather.At($"{plant.SiteId}_celsius", now),
        };
        for (var h = 1; h <= 6; h++)
            sample.Forecast.Add(new ForecastPoint { Time = Timestamp.FromDateTimeOffset(now.AddHours(h)), Megawatts = weather.At(column, now.AddHours(h)) * plant.NameplateMegawatts });
        return sample;
    }
}

/// <summary>A steady trickle of demo jobs through the public JobService, from a fixed seed.</summary>
internal sealed class DemoJobTrickle(IOptions<SchedulerHostOptions> options, SchedulerClock clock, SchedulerCredentials credentials, ILogger<DemoJobTrickle> logger) : BackgroundService
{
    private static readonly string[] Tenants = ["demo-llm", "demo-vision", "demo-batch"];
    private static readonly int[] GpuSizes = [64, 128, 256, 512, 1024];

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // The demo is a client like any other: it holds an operator token minted from the host's own keys.
        using var channel = SchedulerChannel.Create($"http://127.0.0.1:{options.Value.GrpcPort}", credentials.MintOperator("demo", TimeSpan.FromDays(365)));
        var client = new JobService.JobServiceClient(channel);
        var random = new Random(42);
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(options.Value.DemoJobIntervalSeconds));
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                var tenant = Tenants[random.Next(Tenants.Length)];
                var gpus = GpuSizes[random.Next(GpuSizes.Length)];
                var hours = 1 + random.NextDouble() * 11;
                var now = clock.GetUtcNow();
                var spec = new JobSpec
                {
                    Tenant = tenant, Gpus = gpus, WorkGpuHours = Math.Round(gpus * hours, 1),
                    Deadline = Timestamp.FromDateTimeOffset(now.AddHours(hours * (1.5 + random.NextDouble() * 2.5))),
                    Interruptible = random.NextDouble() < 0.7, Relocatable = random.NextDouble() < 0.8,
                    CheckpointGb = Math.Round(20 + random.NextDouble() * 380),
                };
                if (tenant == "demo-llm") spec.TokensPerGpuHour = 1_800_000; // ~500 tokens/s per GPU
                try
                {
                    var job = await client.CreateJobAsync(new CreateJobRequest { RequestId = $"demo-{now.UtcTicks}", Job = spec }, cancellationToken: stoppingToken);
                    logger.LogInformation("Demo job {JobId}: {Tenant}, {Gpus} GPUs, {Hours:0.#} h", job.Id, tenant, gpus, hours);
                }
                catch (RpcException ex) when (ex.StatusCode is StatusCode.Unavailable or StatusCode.InvalidArgument)
                {
                    logger.LogDebug(ex, "Demo job not submitted");
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }
}

public static class InnerMongoliaFleetExtensions
{
    /// <summary>The built-in fleet (configured on first start; not in replay mode), and unless <c>--no-demo</c>, its telemetry and demo jobs.</summary>
    public static WebApplicationBuilder AddInnerMongoliaFleet(this WebApplicationBuilder builder)
    {
        var options = builder.Configuration.GetSection(SchedulerHostOptions.Section).Get<SchedulerHostOptions>() ?? new();
        // A replay brings its own fleet.
        if (options.Replay) return builder;
        builder.Services.AddHostedService<FleetBootstrap>();
        if (!options.Demo) return builder;
        // Hourly weather at high speed: a plant is stale only after three real seconds without a sample.
        builder.Services.PostConfigure<SchedulerOptions>(o => o.PlantStaleAfter = TimeSpan.FromSeconds(3 * options.EffectiveSpeed));
        builder.Services.AddHostedService<DemoTelemetryPlayer>();
        builder.Services.AddHostedService<DemoJobTrickle>();
        return builder;
    }
}
