namespace Scheduler.Api.Tests;

using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Microsoft.Extensions.DependencyInjection;
using Scheduler.Api.V1;
using TelemetryHold = Scheduler.Grains.TelemetryHold;

[Collection(HostCollection.Name)]
public class TelemetryApiTests(HostFixture fixture)
{
    private TelemetryService.TelemetryServiceClient Telemetry => new(fixture.Host.Channel);

    private GenerationSample Sample(string plant, double mw, double minutes = 0) => new()
    {
        PlantId = plant, Megawatts = mw, Time = Timestamp.FromDateTimeOffset(fixture.Host.Time.GetUtcNow().AddMinutes(minutes)),
    };

    [Fact]
    public async Task ReportGeneration_AcceptsAGoodSample_AndTheSiteSeesIt()
    {
        fixture.Host.Time.Advance(TimeSpan.FromMinutes(1));
        var reply = await Telemetry.ReportGenerationAsync(Sample("baotou-solar", 42));

        var site = await new FleetService.FleetServiceClient(fixture.Host.Channel).GetSiteAsync(new GetSiteRequest { Id = "baotou" });
        Assert.True(reply.Accepted);
        Assert.Contains(site.Plants, p => p.PlantId == "baotou-solar" && p.Megawatts == 42);
    }

    [Theory]
    [InlineData(double.NaN, 0, "megawatts")]
    [InlineData(-3, 0, "megawatts")]
    [InlineData(500, 0, "megawatts")]
    [InlineData(10, 600, "time")]
    public async Task ReportGeneration_RejectsABadSample_NamingTheField(double mw, double minutes, string field)
    {
        fixture.Host.Time.Advance(TimeSpan.FromMinutes(1));
        var (code, fields) = await Rpc.FailsAsync(() => Telemetry.ReportGenerationAsync(Sample("baotou-wind", mw, minutes)).ResponseAsync);

        Assert.Equal(StatusCode.InvalidArgument, code);
        Assert.Equal([field], fields);
    }

    [Fact]
    public async Task ReportGeneration_UnknownPlant_IsInvalid_NamingThePlantId()
    {
        var (code, fields) = await Rpc.FailsAsync(() => Telemetry.ReportGenerationAsync(Sample("no-such-plant", 1)).ResponseAsync);
        Assert.Equal(StatusCode.InvalidArgument, code);
        Assert.Equal(["plant_id"], fields);
    }

    [Fact]
    public async Task PushGeneration_CountsAndDescribesRejections_AndKeepsTheGoodSamples()
    {
        fixture.Host.Time.Advance(TimeSpan.FromMinutes(1));
        using var call = Telemetry.PushGeneration();
        await call.RequestStream.WriteAsync(Sample("ulanqab-wind", 100));
        await call.RequestStream.WriteAsync(Sample("ulanqab-wind", 101));          // same time: a duplicate
        await call.RequestStream.WriteAsync(Sample("ulanqab-solar", double.NaN));
        await call.RequestStream.WriteAsync(Sample("ulanqab-solar", 50, 0.5));
        await call.RequestStream.CompleteAsync();

        var reply = await call;

        Assert.Equal((2, 2), (reply.Accepted, reply.Rejected));
        Assert.Equal([(1L, "time"), (2L, "megawatts")], reply.Rejections.Select(r => (r.Index, r.Field)));
        var site = await new FleetService.FleetServiceClient(fixture.Host.Channel).GetSiteAsync(new GetSiteRequest { Id = "ulanqab" });
        Assert.Contains(site.Plants, p => p.PlantId == "ulanqab-wind" && p.Megawatts == 100);
    }

    /// <summary>
    /// While a round holds the telemetry (<see cref="TelemetryHold"/>), a sample is read but not handed to its plant;
    /// once the hold ends it is, on both the unary and the streaming path.
    /// </summary>
    [Fact]
    public async Task WhileARoundHoldsTheTelemetry_NoSampleReachesItsPlant_TillTheHoldEnds()
    {
        // Held for as long as the test takes, not the default 50 ms.
        await using var host = await SchedulerHost.StartFreshAsync(b => b.Services.AddSingleton(new TelemetryHold(TimeSpan.FromMinutes(5), TimeProvider.System)));
        var telemetry = new TelemetryService.TelemetryServiceClient(host.Channel);
        var fleet = new FleetService.FleetServiceClient(host.Channel);
        var hold = host.App.Services.GetRequiredService<TelemetryHold>();
        host.Time.Advance(TimeSpan.FromMinutes(1));
        GenerationSample At(string plant, double mw) =>
            new() { PlantId = plant, Megawatts = mw, Time = Timestamp.FromDateTimeOffset(host.Time.GetUtcNow()) };
        async Task<double?> PlantMegawattsAsync(string plant) =>
            (await fleet.GetSiteAsync(new GetSiteRequest { Id = "baotou" })).Plants.FirstOrDefault(p => p.PlantId == plant)?.Megawatts;

        var round = hold.Hold("inner-mongolia");
        var unary = telemetry.ReportGenerationAsync(At("baotou-wind", 42)).ResponseAsync;
        using var stream = telemetry.PushGeneration();
        await stream.RequestStream.WriteAsync(At("baotou-solar", 7));
        await Task.Delay(300);
        Assert.False(unary.IsCompleted);
        Assert.Null(await PlantMegawattsAsync("baotou-wind"));
        Assert.Null(await PlantMegawattsAsync("baotou-solar"));

        round.Dispose();
        Assert.True((await unary).Accepted);
        await stream.RequestStream.CompleteAsync();
        Assert.Equal(1, (await stream).Accepted);
        Assert.Equal(42, await PlantMegawattsAsync("baotou-wind"));
        Assert.Equal(7, await PlantMegawattsAsync("baotou-solar"));
    }
}
