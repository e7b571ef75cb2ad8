namespace Scheduler.Cluster.Tests.Storage;

using Orleans;
using Orleans.Runtime;
using Orleans.Storage;

/// <summary>The state the conformance tests store: a counter, who wrote it, and a list that grows.</summary>
[GenerateSerializer]
public sealed class ProbeState
{
    [Id(0)] public int Value { get; set; }
    [Id(1)] public string Writer { get; set; } = "";
    [Id(2)] public List<int> Items { get; set; } = [];
}

/// <summary>A grain's view of its stored state, as <c>IPersistentState</c> holds it.</summary>
public sealed class ProbeGrainState : IGrainState<ProbeState>
{
    private ProbeState _state = new();

    /// <summary>Never null: a provider that sets null (it should not) leaves an empty state.</summary>
    [System.Diagnostics.CodeAnalysis.AllowNull]
    public ProbeState State { get => _state; set => _state = value ?? new(); }

    public string? ETag { get; set; }
    public bool RecordExists { get; set; }
}

/// <summary>
/// The contract every grain storage backend of the scheduler must keep, run against each backend by a subclass: round
/// trips, ETag optimistic concurrency (a stale write or clear fails with <see cref="InconsistentStateException"/>, as
/// Orleans' own providers do), no lost update under concurrent writers, and clear-then-write.
/// </summary>
public abstract class GrainStorageConformanceTests
{
    private const string StateName = "probe";

    /// <summary>A fresh storage (or one shared by the class: every test uses new grain ids).</summary>
    protected abstract Task<IGrainStorage> StorageAsync();

    private static GrainId NewGrain() => GrainId.Create("probe", Guid.NewGuid().ToString("N"));

    private static ProbeGrainState Empty() => new();

    private static async Task<ProbeGrainState> ReadAsync(IGrainStorage storage, GrainId id, string name = StateName)
    {
        var state = Empty();
        await storage.ReadStateAsync(name, id, state);
        return state;
    }

    [SkippableFact]
    public async Task Read_ReturnsNoRecord_WhenNothingWasWritten()
    {
        var storage = await StorageAsync();
        var state = await ReadAsync(storage, NewGrain());
        Assert.False(state.RecordExists);
        Assert.Null(state.ETag);
        Assert.NotNull(state.State);
        Assert.Equal(0, state.State.Value);
    }

    [SkippableFact]
    public async Task WriteThenRead_RoundTripsStateAndETag()
    {
        var storage = await StorageAsync();
        var id = NewGrain();
        var written = Empty();
        written.State = new ProbeState { Value = 42, Writer = "a", Items = [1, 2, 3] };
        await storage.WriteStateAsync(StateName, id, written);
        Assert.NotNull(written.ETag);
        Assert.True(written.RecordExists);

        var read = await ReadAsync(storage, id);
        Assert.True(read.RecordExists);
        Assert.Equal(written.ETag, read.ETag);
        Assert.Equal(42, read.State.Value);
        Assert.Equal("a", read.State.Writer);
        Assert.Equal([1, 2, 3], read.State.Items);

        // A second write from the same holder moves the ETag on.
        var first = written.ETag;
        written.State.Value = 43;
        await storage.WriteStateAsync(StateName, id, written);
        Assert.NotEqual(first, written.ETag);
        Assert.Equal(43, (await ReadAsync(storage, id)).State.Value);
    }

    [SkippableFact]
    public async Task State_IsKeptApart_PerGrainAndPerStateName()
    {
        var storage = await StorageAsync();
        var (a, b) = (NewGrain(), NewGrain());
        foreach (var (id, name, value) in new[] { (a, "x", 1), (a, "y", 2), (b, "x", 3) })
        {
            var state = Empty();
            state.State.Value = value;
            await storage.WriteStateAsync(name, id, state);
        }
        Assert.Equal(1, (await ReadAsync(storage, a, "x")).State.Value);
        Assert.Equal(2, (await ReadAsync(storage, a, "y")).State.Value);
        Assert.Equal(3, (await ReadAsync(storage, b, "x")).State.Value);
        Assert.False((await ReadAsync(storage, b, "y")).RecordExists);
    }

    [SkippableFact]
    public async Task Write_FailsWithInconsistentState_WhenTheETagIsStale()
    {
        var storage = await StorageAsync();
        var id = NewGrain();
        var seed = Empty();
        await storage.WriteStateAsync(StateName, id, seed);

        var winner = await ReadAsync(storage, id);
        var loser = await ReadAsync(storage, id);
        winner.State.Writer = "winner";
        await storage.WriteStateAsync(StateName, id, winner);
        loser.State.Writer = "loser";
        await Assert.ThrowsAsync<InconsistentStateException>(() => storage.WriteStateAsync(StateName, id, loser));
        Assert.Equal("winner", (await ReadAsync(storage, id)).State.Writer);
    }

    [SkippableFact]
    public async Task Write_FailsWithInconsistentState_WhenTwoWritersBothThinkTheRecordIsNew()
    {
        var storage = await StorageAsync();
        var id = NewGrain();
        var first = await ReadAsync(storage, id);
        var second = await ReadAsync(storage, id);
        first.State.Writer = "first";
        await storage.WriteStateAsync(StateName, id, first);
        second.State.Writer = "second";
        await Assert.ThrowsAsync<InconsistentStateException>(() => storage.WriteStateAsync(StateName, id, second));
        Assert.Equal("first", (await ReadAsync(storage, id)).State.Writer);
    }

    [SkippableFact]
    public async Task ConcurrentWriters_LoseNoUpdate()
    {
        const int writers = 6, increments = 15;
        var storage = await StorageAsync();
        var id = NewGrain();
        var conflicts = 0;
        await Task.WhenAll(Enumerable.Range(0, writers).Select(w => Task.Run(async () =>
        {
            for (var done = 0; done < increments;)
            {
                var state = await ReadAsync(storage, id);
                state.State.Value++;
                state.State.Items.Add(w);
                try
                {
                    await storage.WriteStateAsync(StateName, id, state);
                    done++;
                }
                catch (InconsistentStateException)
                {
                    Interlocked.Increment(ref conflicts); // someone else wrote first: read again and retry
                }
            }
        })));
        var final = await ReadAsync(storage, id);
        Assert.Equal(writers * increments, final.State.Value);
        Assert.Equal(writers * increments, final.State.Items.Count);
        foreach (var w in Enumerable.Range(0, writers)) Assert.Equal(increments, final.State.Items.Count(i => i == w));
    }

    [SkippableFact]
    public async Task ClearThenWrite_StoresTheNewState()
    {
        var storage = await StorageAsync();
        var id = NewGrain();
        var state = Empty();
        state.State.Value = 1;
        await storage.WriteStateAsync(StateName, id, state);

        await storage.ClearStateAsync(StateName, id, state);
        Assert.False(state.RecordExists);
        Assert.Equal(0, state.State.Value);
        Assert.False((await ReadAsync(storage, id)).RecordExists);

        // The holder writes again straight after its clear, without a read.
        state.State.Value = 2;
        await storage.WriteStateAsync(StateName, id, state);
        var read = await ReadAsync(storage, id);
        Assert.True(read.RecordExists);
        Assert.Equal(2, read.State.Value);
        Assert.Equal(state.ETag, read.ETag);

        // And a reader of the cleared record may write too.
        await storage.ClearStateAsync(StateName, id, state);
        var reader = await ReadAsync(storage, id);
        reader.State.Value = 3;
        await storage.WriteStateAsync(StateName, id, reader);
        Assert.Equal(3, (await ReadAsync(storage, id)).State.Value);
    }

    [SkippableFact]
    public async Task Clear_FailsWithInconsistentState_WhenTheETagIsStale()
    {
        var storage = await StorageAsync();
        var id = NewGrain();
        var state = Empty();
        await storage.WriteStateAsync(StateName, id, state);
        var stale = await ReadAsync(storage, id);
        state.State.Value = 5;
        await storage.WriteStateAsync(StateName, id, state);

        await Assert.ThrowsAsync<InconsistentStateException>(() => storage.ClearStateAsync(StateName, id, stale));
        Assert.Equal(5, (await ReadAsync(storage, id)).State.Value);
    }

    /// <summary>
    /// A writer that read before someone else cleared and rewrote the record holds a stale ETag even if the new record
    /// looks like the one it read (the ABA case): its write must fail, not overwrite.
    /// </summary>
    [SkippableFact]
    public async Task Write_FailsWithInconsistentState_WhenTheRecordWasClearedAndRewrittenSinceTheRead()
    {
        var storage = await StorageAsync();
        var id = NewGrain();
        var owner = Empty();
        await storage.WriteStateAsync(StateName, id, owner);
        var stale = await ReadAsync(storage, id);

        await storage.ClearStateAsync(StateName, id, owner);
        owner.State.Writer = "owner";
        await storage.WriteStateAsync(StateName, id, owner);

        stale.State.Writer = "stale";
        await Assert.ThrowsAsync<InconsistentStateException>(() => storage.WriteStateAsync(StateName, id, stale));
        Assert.Equal("owner", (await ReadAsync(storage, id)).State.Writer);
    }
}
