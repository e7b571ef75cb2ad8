namespace Scheduler.Grains.Tests;

using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Orleans.Core.Internal;
using Orleans.Serialization;
using Orleans.Storage;
using Orleans.TestingHost;
using Scheduler.Grains.Hosting;

/// <summary>
/// A two-silo in-process cluster with in-memory storage. The fleet clock is off: tests tick explicitly, on one fake
/// clock shared by both silos, so every step is a deliberate phase of the test. Prompt dispatch is off too, so rounds
/// happen only on those ticks (<see cref="PromptDispatchClusterFixture"/> has it on).
/// </summary>
public class ClusterFixture : IAsyncLifetime
{
    protected virtual bool PromptDispatch => false;

    public static readonly DateTimeOffset Start = new(2026, 4, 1, 0, 0, 0, TimeSpan.Zero);

    public FakeTimeProvider Time { get; } = new(Start);
    public InProcessTestCluster Cluster { get; private set; } = null!;
    public IClusterClient Client => Cluster.Client;

    public async Task InitializeAsync()
    {
        var builder = new InProcessTestClusterBuilder(2);
        var clock = new SchedulerClock(Time);
        builder.ConfigureSilo((_, silo) =>
        {
            ConfigureStorage(silo);
            silo.Services.AddSingleton(clock);
            silo.AddSchedulerGrains(new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["Scheduler:AutoTick"] = "false",
                ["Scheduler:PromptDispatch"] = PromptDispatch ? "true" : "false",
                ["Scheduler:PlantStaleAfter"] = "00:30:00",
            }).Build());
        });
        builder.ConfigureClient(client => client.Services.AddSerializer(s => s.AddSchedulerSerializers()));
        Cluster = builder.Build();
        await Cluster.DeployAsync();
    }

    public async Task DisposeAsync() => await Cluster.DisposeAsync();

    /// <summary>The silos' default grain storage: in memory, shared by both silos.</summary>
    protected virtual void ConfigureStorage(ISiloBuilder silo) => silo.AddMemoryGrainStorageAsDefault();

    /// <summary>
    /// Rounds of <paramref name="region"/> that held the telemetry so far, on both silos (each has its own
    /// <see cref="TelemetryHold"/>).
    /// </summary>
    public long TelemetryHoldsBy(string region) => Cluster.Silos.Sum(s => s.ServiceProvider.GetRequiredService<TelemetryHold>().HoldsBy(region));

    /// <summary>The grain storage both silos write to (in memory, held by the cluster).</summary>
    public IGrainStorage Storage => Cluster.Silos[0].ServiceProvider.GetRequiredKeyedService<IGrainStorage>("Default");

    /// <summary>
    /// Runs <paramref name="rounds"/> rounds of calls (<paramref name="round"/>, given the round's number) and counts,
    /// from the grains' stored ETags (each write changes one), how often each grain wrote its state and the most grains
    /// that wrote in any one round.
    /// </summary>
    public async Task<(int[] Writes, int MostInOneRound)> CountWritesAsync<TState>(string stateName, IReadOnlyList<IAddressable> grains,
        int rounds, Func<int, Task> round) where TState : new()
    {
        var before = await StoredETagsAsync();
        var writes = new int[grains.Count];
        var most = 0;
        for (var r = 0; r < rounds; r++)
        {
            await round(r);
            var after = await StoredETagsAsync();
            var wrote = 0;
            for (var i = 0; i < grains.Count; i++)
                if (after[i] != before[i]) (writes[i], wrote) = (writes[i] + 1, wrote + 1);
            most = Math.Max(most, wrote);
            before = after;
        }
        return (writes, most);

        Task<string?[]> StoredETagsAsync() => Task.WhenAll(grains.Select(async grain =>
        {
            var stored = new GrainState<TState>();
            await Storage.ReadStateAsync(stateName, grain.GetGrainId(), stored);
            return stored.ETag;
        }));
    }

    /// <summary>
    /// A site's state as stored, what it would load if it went away now: its snapshot (whose ETag this carries) with
    /// the changes of its journal after it.
    /// </summary>
    public async Task<GrainState<SiteGrainState>> StoredSiteAsync(string siteId)
    {
        var id = SiteId(siteId);
        var stored = await SnapshotAsync(id);
        var (_, changes) = await SiteJournal.LoadAsync(Storage, id, stored.State!.JournalSequence);
        foreach (var change in changes) change.ApplyTo(stored.State!);
        return stored;
    }

    /// <summary>
    /// The site goes away as a killed process would: only what it had stored is left. (Going away, a site writes its
    /// snapshot; a crash would not, so that write is undone.)
    /// </summary>
    public async Task CrashSiteAsync(string siteId)
    {
        var id = SiteId(siteId);
        var stored = await SnapshotAsync(id);
        await Client.GetGrain<ISiteGrain>(siteId).Cast<IGrainManagementExtension>().DeactivateOnIdle();
        GrainState<SiteGrainState> last;
        while ((last = await SnapshotAsync(id)).ETag == stored.ETag) await Task.Delay(10);
        await Storage.WriteStateAsync("site", id, new GrainState<SiteGrainState>(stored.State) { ETag = last.ETag, RecordExists = true });
    }

    private GrainId SiteId(string siteId) => Client.GetGrain<ISiteGrain>(siteId).GetGrainId();

    private async Task<GrainState<SiteGrainState>> SnapshotAsync(GrainId id)
    {
        var stored = new GrainState<SiteGrainState>(new SiteGrainState());
        await Storage.ReadStateAsync("site", id, stored);
        return stored;
    }
}

[CollectionDefinition(Name)]
public sealed class ClusterCollection : ICollectionFixture<ClusterFixture>
{
    public const string Name = "cluster";
}

/// <summary>The same cluster with prompt dispatch on: a new job or a supply rise runs a round of starts between ticks.</summary>
public sealed class PromptDispatchClusterFixture : ClusterFixture
{
    protected override bool PromptDispatch => true;
}

[CollectionDefinition(Name)]
public sealed class PromptDispatchClusterCollection : ICollectionFixture<PromptDispatchClusterFixture>
{
    public const string Name = "prompt-dispatch cluster";
}
