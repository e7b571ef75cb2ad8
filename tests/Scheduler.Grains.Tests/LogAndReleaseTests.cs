namespace Scheduler.Grains.Tests;

using Microsoft.Extensions.DependencyInjection;
using Orleans.Providers;
using Orleans.Storage;
using Scheduler.Core.Lifecycle;

/// <summary>
/// No site hears of a wave's decisions before its decision log holds them (docs/adr/0009): with the log write held at
/// the storage, a relocating job's old site still runs it and its new one has not bound it. (Session 24 let the
/// releases go out beside the log write; the full runs showed no gain, and the stricter rule came back.) Nor after a
/// log write that failed, until a later one stores it.
/// </summary>
[Collection(LogGateClusterCollection.Name)]
public sealed class LogAndReleaseTests(LogGateClusterFixture fixture)
{
    private static readonly TimeSpan Step = TimeSpan.FromMinutes(15);

    [Fact]
    public async Task ARelocationsSites_HearOfItOnlyOnceTheDecisionLogHoldsIt()
    {
        var fleet = new TestFleet(fixture);
        var (a, b, spec) = await fleet.JobAtALitSiteAsync(Step);
        Assert.Equal([a], await fleet.SitesHoldingAsync(spec.Id));

        // The wind moves from a to b; after the cooldown the job follows it, in the first tick that writes the log.
        var held = false;
        for (var i = 0; i < 8 && !held; i++)
        {
            await fleet.ReportAsync(a, 0);
            await fleet.ReportAsync(b, 5);
            var gate = fixture.Gate.Arm();
            var tick = fleet.TickAsync(Step);
            if (await Task.WhenAny(tick, gate.Entered) == tick)
            {
                gate.Open();
                await tick;
                continue;
            }
            held = true;
            // A release or a bind sent beside the log write would land within this second.
            var whileLogging = await TestFleet.UntilAsync(() => fleet.SitesHoldingAsync(spec.Id), sites => !sites.SequenceEqual([a]), TimeSpan.FromSeconds(1));
            var record = await fleet.JobAsync("j");
            gate.Open();
            await tick;

            Assert.Equal([a], whileLogging);
            Assert.Equal((JobStatus.Relocating, b), (record.State.Status, record.State.SiteId)); // the job took it in memory
            Assert.Equal([b], await fleet.SitesHoldingAsync(spec.Id));
        }
        Assert.True(held, "no tick wrote the decision log");
    }

    [Fact]
    public async Task ADecisionWhoseLogWriteFailed_ReachesNoSite_UntilATickStoresIt()
    {
        var fleet = new TestFleet(fixture);
        var (a, b, spec) = await fleet.JobAtALitSiteAsync(Step);
        Assert.Equal([a], await fleet.SitesHoldingAsync(spec.Id));

        JobRecord record;
        fixture.Gate.Failing = true;
        try
        {
            // The wind moves from a to b; the tick that relocates the job fails at its log write.
            Exception? failed = null;
            for (var i = 0; i < 8 && failed is null; i++)
            {
                await fleet.ReportAsync(a, 0);
                await fleet.ReportAsync(b, 5);
                failed = await Record.ExceptionAsync(() => fleet.TickAsync(Step));
            }
            Assert.IsType<IOException>(failed);
            record = await fleet.JobAsync("j");

            // The next tick finds b without the job and a with it; the storage still fails, so it must tell neither.
            await fleet.TickAsync(Step);
            Assert.Equal([a], await fleet.SitesHoldingAsync(spec.Id));
        }
        finally
        {
            fixture.Gate.Failing = false;
        }
        Assert.Equal((JobStatus.Relocating, b), (record.State.Status, record.State.SiteId)); // the job took it in memory

        // Once the log is stored, the tick's reconcile tells both sites.
        await fleet.TickAsync(Step);
        Assert.Equal([b], await fleet.SitesHoldingAsync(spec.Id));
    }
}

/// <summary>Holds the next write of a dispatcher's decision log until the test opens it, or fails every such write.</summary>
public sealed class LogWriteGate
{
    private volatile Held? _held;
    private volatile bool _failing;

    /// <summary>While set, every write of a decision log throws an <see cref="IOException"/>.</summary>
    public bool Failing
    {
        get => _failing;
        set => _failing = value;
    }

    public sealed class Held
    {
        private readonly TaskCompletionSource _entered = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TaskCompletionSource _open = new(TaskCreationOptions.RunContinuationsAsynchronously);

        /// <summary>Completes when a log write reached the gate.</summary>
        public Task Entered => _entered.Task;

        public void Open() => _open.TrySetResult();

        internal Task WaitAsync()
        {
            _entered.TrySetResult();
            return _open.Task;
        }
    }

    public Held Arm() => _held = new Held();

    internal Task PassAsync(string stateName)
    {
        if (stateName != DecisionLog.StateName) return Task.CompletedTask;
        if (_failing) throw new IOException("decision log write failed (test)");
        return Interlocked.Exchange(ref _held, null) is { } held ? held.WaitAsync() : Task.CompletedTask;
    }
}

/// <summary>The in-memory storage, with each write of a decision log passing <see cref="LogWriteGate"/> first.</summary>
internal sealed class GatedStorage(IGrainStorage inner, LogWriteGate gate) : IGrainStorage
{
    public Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) => inner.ReadStateAsync(stateName, grainId, grainState);

    public async Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        await gate.PassAsync(stateName);
        await inner.WriteStateAsync(stateName, grainId, grainState);
    }

    public Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) => inner.ClearStateAsync(stateName, grainId, grainState);
}

/// <summary>The cluster with its default storage behind a <see cref="LogWriteGate"/>.</summary>
public sealed class LogGateClusterFixture : ClusterFixture
{
    public LogWriteGate Gate { get; } = new();

    protected override void ConfigureStorage(ISiloBuilder silo)
    {
        silo.AddMemoryGrainStorage("ungated");
        silo.Services.AddKeyedSingleton<IGrainStorage>(ProviderConstants.DEFAULT_STORAGE_PROVIDER_NAME,
            (services, _) => new GatedStorage(services.GetRequiredKeyedService<IGrainStorage>("ungated"), Gate));
        // A grain state of no named storage takes the unkeyed one.
        silo.Services.AddSingleton(services => services.GetRequiredKeyedService<IGrainStorage>(ProviderConstants.DEFAULT_STORAGE_PROVIDER_NAME));
    }
}

[CollectionDefinition(Name)]
public sealed class LogGateClusterCollection : ICollectionFixture<LogGateClusterFixture>
{
    public const string Name = "log-gate cluster";
}
