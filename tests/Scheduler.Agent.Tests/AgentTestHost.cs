namespace Scheduler.Agent.Tests;

using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Google.Protobuf.WellKnownTypes;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Scheduler.Api.Client;
using Scheduler.Api.Security;
using Scheduler.Api.V1;
using Scheduler.Grains;
using Scheduler.Host.Hosting;
using GenerationSample = Scheduler.Api.V1.GenerationSample;

/// <summary>
/// The real host (silo + gRPC API + the built-in inner-mongolia fleet) on free loopback ports with a fake scheduler
/// clock that only the test moves, and real agents for some of its sites, each with its own work directory and one
/// shared checkpoint store, all under a temporary directory removed at the end.
/// </summary>
internal sealed class AgentTestHost : IAsyncDisposable
{
    public static readonly DateTimeOffset Start = new(2026, 4, 1, 0, 0, 0, TimeSpan.Zero);
    private readonly List<SiteAgent> _agents = [];

    private AgentTestHost(WebApplication app, int grpcPort, FakeTimeProvider time, string root)
    {
        App = app;
        GrpcPort = grpcPort;
        Time = time;
        Root = root;
        Credentials = app.Services.GetRequiredService<SchedulerCredentials>();
        Channel = SchedulerChannel.Create(Address, Credentials.MintOperator("agent-tests"));
    }

    public WebApplication App { get; }
    public int GrpcPort { get; }
    public string Address => $"http://127.0.0.1:{GrpcPort}";
    public FakeTimeProvider Time { get; }
    public string Root { get; }
    public SchedulerCredentials Credentials { get; }
    public GrpcChannel Channel { get; }
    public IGrainFactory Grains => App.Services.GetRequiredService<IGrainFactory>();
    public JobService.JobServiceClient Jobs => new(Channel);

    public static async Task<AgentTestHost> StartAsync()
    {
        var root = Path.Combine(Path.GetTempPath(), "agent-tests-" + Guid.NewGuid().ToString("N")[..8]);
        var time = new FakeTimeProvider(Start);
        var ports = LoopbackPorts.Free(4);
        var app = SchedulerApp.Build(
        [
            "--no-demo", "--data-dir", Path.Combine(root, "data"),
            "--grpc-port", ports[0].ToString(CultureInfo.InvariantCulture), "--http-port", ports[1].ToString(CultureInfo.InvariantCulture),
            "--silo-port", ports[2].ToString(CultureInfo.InvariantCulture), "--gateway-port", ports[3].ToString(CultureInfo.InvariantCulture),
            "--Scheduler:AutoTick=false", "--Scheduler:PromptDispatch=false", "--Logging:LogLevel:Default=Warning", "--Scheduler:Auth:CredentialFile=",
        ], builder => builder.Services.AddSingleton(new SchedulerClock(time)));
        await app.StartAsync();
        return new AgentTestHost(app, ports[0], time, root);
    }

    /// <summary>Starts an agent for <paramref name="site"/> with its own agent token; returns once the scheduler has welcomed it.</summary>
    public async Task<SiteAgent> StartAgentAsync(string site)
    {
        var agent = new SiteAgent(new AgentOptions
        {
            Site = site,
            Address = Address,
            Token = Credentials.Mint(CallerIdentity.ForAgent(site)),
            WorkDirectory = Path.Combine(Root, "sites", site),
            CheckpointStore = Path.Combine(Root, "checkpoints"),
            CheckpointGrace = TimeSpan.FromSeconds(20),
            ReportInterval = TimeSpan.FromMilliseconds(100),
            ReconnectDelay = TimeSpan.FromMilliseconds(200),
            AgentId = "test-" + site,
        }, TextWriter.Null);
        lock (_agents) _agents.Add(agent);
        await agent.Start().Session.WaitAsync(TimeSpan.FromSeconds(30));
        return agent;
    }

    /// <summary>The example workload (docs/examples/step-workload), built next to the tests, run with the dotnet host.</summary>
    public static Workload StepWorkload(int steps, int stepMilliseconds) => new()
    {
        Command = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet",
        Args = { Path.Combine(AppContext.BaseDirectory, "StepWorkload.dll"), "--steps", steps.ToString(CultureInfo.InvariantCulture), "--step-ms", stepMilliseconds.ToString(CultureInfo.InvariantCulture) },
    };

    /// <summary>The state after <paramref name="steps"/> steps of the example workload, computed here without it.</summary>
    public static string ExpectedState(int steps)
    {
        var state = new byte[32];
        for (var step = 1; step <= steps; step++)
            state = SHA256.HashData([.. state, .. Encoding.ASCII.GetBytes(step.ToString(CultureInfo.InvariantCulture))]);
        return Convert.ToHexStringLower(state);
    }

    /// <summary>Pushes one sample per built-in wind plant, stamped now: the windy site gets 200 MW, the others nothing.</summary>
    public async Task WindAtAsync(string windySite)
    {
        using var call = new TelemetryService.TelemetryServiceClient(Channel).PushGeneration();
        foreach (var site in new[] { "horinger", "ulanqab", "baotou" })
            await call.RequestStream.WriteAsync(new GenerationSample
            {
                PlantId = site + "-wind", Megawatts = site == windySite ? 200 : 0, Time = Timestamp.FromDateTimeOffset(Time.GetUtcNow()),
            });
        await call.RequestStream.CompleteAsync();
        Assert.Equal(3, (await call).Accepted);
    }

    /// <summary>Advances the scheduler clock with the wind at a site, then steps every site and runs a dispatch round.</summary>
    public async Task TickAsync(TimeSpan advance, string windySite)
    {
        Time.Advance(advance);
        await WindAtAsync(windySite);
        await Grains.GetGrain<IFleetGrain>(IFleetGrain.Key).TickAsync(Time.GetUtcNow());
    }

    public async Task<Job> JobAsync(string id) => await Jobs.GetJobAsync(new GetJobRequest { Id = id });

    /// <summary>What the site's agent last reported for the job (null: nothing).</summary>
    public async Task<AgentJobStatus?> AgentJobAsync(string site, string jobId) =>
        (await Grains.GetGrain<ISiteGrain>(site).GetAsync())?.Executor?.Jobs.FirstOrDefault(j => j.JobId == jobId);

    /// <summary>
    /// Polls <paramref name="condition"/> until it holds; fails after <paramref name="timeout"/> of real time (the
    /// workloads are real processes). The condition itself may tick the scheduler.
    /// </summary>
    public static async Task UntilAsync(Func<Task<bool>> condition, TimeSpan timeout, string what)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline) Assert.Fail($"timed out after {timeout.TotalSeconds:0} s waiting until {what}");
            await Task.Delay(100);
        }
    }

    /// <summary>The step numbers a site's log of the job shows, in order.</summary>
    public IReadOnlyList<int> StepsLogged(string site, string jobId, out IReadOnlyList<string> lines)
    {
        var path = Path.Combine(Root, "sites", site, "jobs", jobId, "job.log");
        lines = File.Exists(path) ? File.ReadAllLines(path) : [];
        return lines.Where(l => l.StartsWith("step ", StringComparison.Ordinal))
            .Select(l => int.Parse(l.Split(' ')[1], CultureInfo.InvariantCulture)).ToList();
    }

    public async Task StopAgentAsync(SiteAgent agent)
    {
        lock (_agents) _agents.Remove(agent);
        await agent.DisposeAsync();
    }

    public async ValueTask DisposeAsync()
    {
        List<SiteAgent> agents;
        lock (_agents) agents = [.. _agents];
        foreach (var agent in agents) await agent.DisposeAsync();
        Channel.Dispose();
        await App.StopAsync();
        await App.DisposeAsync();
        try { Directory.Delete(Root, recursive: true); } catch (IOException) { }
    }

}
