namespace Scheduler.Replay.Tests;

using Grpc.Core;
using Scheduler.Api.V1;
using JobSpec = Scheduler.Core.Model.JobSpec;
using PlantKind = Scheduler.Core.Model.PlantKind;
using Scheduler.Core.Model;
using Scheduler.Replay.Driver;
using Scheduler.Scenarios;

/// <summary>The replay driving the real system (in-process host, replay mode) over a small hand-made fleet.</summary>
public class ReplayDriverTests
{
    private static readonly DateTimeOffset T0 = new(2024, 3, 1, 0, 0, 0, TimeSpan.Zero);

    /// <summary>Three sites whose wind blows in turn, 8 hours each; jobs with a day of slack.</summary>
    internal static LoadedScenario RotatingWind(int days = 2, int jobs = 12)
    {
        string[] ids = ["a", "b", "c"];
        var steps = days * 24;
        var sites = ids.Select(id => new SiteSpec(id, "r", 400, 1.0, CoolingModel.Constant(1.1), 0.05,
            new BatterySpec(0.4, 0.2, 0.2, 0.9, 0.1, 0.9), 1.0, 0.5, 0.8)).ToList();
        var plants = ids.Select(id => new PlantSpec($"{id}-wind", PlantKind.Wind, 0.5, id)).ToList();
        var mw = ids.Select((id, i) => (Id: $"{id}-wind", Series: Enumerable.Range(0, steps)
            .Select(h => h % 24 >= 8 * i && h % 24 < 8 * (i + 1) ? 0.45 : 0.02).ToArray())).ToDictionary(x => x.Id, x => x.Series);
        var celsius = ids.ToDictionary(id => id, _ => Enumerable.Repeat(5.0, steps).ToArray());
        var work = Enumerable.Range(0, jobs).Select(j => new JobSpec($"job-{j:00}", "t", 100 + 20 * (j % 3), (100 + 20 * (j % 3)) * (3 + j % 4),
            T0.AddHours(j * 2), T0.AddHours(j * 2 + 24), Interruptible: true, Relocatable: true, CheckpointGigabytes: 20, [])).ToList();
        return new LoadedScenario("rotating-wind", T0, TimeSpan.FromHours(1), steps, sites, plants,
            [new LinkSpec("a", "b", 100), new LinkSpec("b", "c", 100), new LinkSpec("a", "c", 100)], mw, celsius, work);
    }

    [Fact]
    public async Task EveryPolicy_KeepsTheInvariants_AndOursUsesMoreGreenThanAgnostic()
    {
        var scenario = RotatingWind();
        await using var host = await ReplayHost.StartAsync();
        var outcomes = await new ReplayDriver(host.Channel).RunAsync(scenario, [Policies.Scheduler, Policies.Greedy, Policies.Agnostic]);

        foreach (var outcome in outcomes) ReplayInvariants.Check(scenario, outcome);
        var green = outcomes.ToDictionary(o => o.Result.Policy, o => o.Result.Scoreboard.GreenUsedMWh);
        Assert.True(green[Policies.Scheduler] > green[Policies.Agnostic], $"scheduler {green[Policies.Scheduler]:0.###} MWh vs agnostic {green[Policies.Agnostic]:0.###}");
        Assert.All(outcomes, o => Assert.Equal(scenario.Jobs.Count, o.Jobs.Count));
    }

    [Fact]
    public async Task TheSameInputs_GiveTheSameScoreboard()
    {
        var scenario = RotatingWind(days: 1, jobs: 6);
        async Task<Scoreboard> Run()
        {
            await using var host = await ReplayHost.StartAsync();
            return (await new ReplayDriver(host.Channel).RunAsync(scenario, [Policies.Scheduler]))[0].Result.Scoreboard;
        }
        Assert.Equal(await Run(), await Run());
    }

    [Fact]
    public async Task ClockControl_IsRefused_OutsideReplayMode()
    {
        var ports = Host.Hosting.LoopbackPorts.Free(4);
        var dataDir = Path.Combine(Path.GetTempPath(), "scheduler-live-" + Guid.NewGuid().ToString("N")[..8]);
        var app = Host.Hosting.SchedulerApp.Build(new Microsoft.AspNetCore.Builder.WebApplicationOptions
        {
            ContentRootPath = Directory.CreateDirectory(dataDir).FullName,
            Args = ["--no-demo", "--data-dir", dataDir, "--grpc-port", $"{ports[0]}", "--http-port", $"{ports[1]}", "--silo-port", $"{ports[2]}", "--gateway-port", $"{ports[3]}",
                "--Logging:LogLevel:Default=Warning", "--Scheduler:Auth:CredentialFile="],
        }, telemetry: false);
        await app.StartAsync();
        try
        {
            using var channel = Scheduler.Api.Client.SchedulerChannel.Create($"http://127.0.0.1:{ports[0]}",
                Microsoft.Extensions.DependencyInjection.ServiceProviderServiceExtensions.GetRequiredService<Scheduler.Api.Security.SchedulerCredentials>(app.Services).MintOperator("test"));
            var replay = new ReplayService.ReplayServiceClient(channel);
            var error = await Assert.ThrowsAsync<RpcException>(async () =>
                await replay.SetClockAsync(new SetClockRequest { Time = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTimeOffset(T0) }));
            Assert.Equal(StatusCode.FailedPrecondition, error.StatusCode);
            Assert.Contains("--replay", error.Status.Detail);
            Assert.Equal(StatusCode.FailedPrecondition, (await Assert.ThrowsAsync<RpcException>(async () => await replay.TickAsync(new TickRequest()))).StatusCode);
        }
        finally
        {
            await app.StopAsync();
            await app.DisposeAsync();
            Directory.Delete(dataDir, recursive: true);
        }
    }

    [Fact]
    public async Task TheReplayClock_NeverMovesBack_AndAnUnknownPolicyIsRefused()
    {
        await using var host = await ReplayHost.StartAsync();
        var replay = new ReplayService.ReplayServiceClient(host.Channel);
        await replay.SetClockAsync(new SetClockRequest { Time = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTimeOffset(T0) });

        var back = await Assert.ThrowsAsync<RpcException>(async () =>
            await replay.SetClockAsync(new SetClockRequest { Time = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTimeOffset(T0.AddHours(-1)) }));
        Assert.Equal(StatusCode.InvalidArgument, back.StatusCode);
        Assert.Contains("time", back.Status.Detail + string.Join(",", back.Trailers.Select(t => t.Key)));

        var unknown = await Assert.ThrowsAsync<RpcException>(async () =>
            await replay.SetRegionPolicyAsync(new SetRegionPolicyRequest { Region = "r", Policy = "fastest" }));
        Assert.Equal(StatusCode.InvalidArgument, unknown.StatusCode);
    }
}
