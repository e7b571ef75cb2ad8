namespace Scheduler.Grains.Tests;

using Orleans.Core.Internal;
using Orleans.Storage;
using Scheduler.Core.Lifecycle;
using Scheduler.Core.Model;

/// <summary>The paged job catalogue alone, against a storage fake whose writes finish when the test says so.</summary>
public sealed class JobCatalogTests
{
    private static readonly GrainId Owner = GrainId.Create("dispatcher", "r");
    private static readonly DateTimeOffset At = new(2026, 4, 1, 0, 0, 0, TimeSpan.Zero);

    /// <remarks>
    /// Run one turn at a time, as in its grain: under xUnit's context the callers' continuations ran on several threads
    /// at once, and two of them could each find no write in flight and start one (3 writes, seen once in 7 runs of the
    /// project).
    /// </remarks>
    [Fact]
    public Task Persist_GroupsChangesMadeDuringAWrite_IntoOneMoreWrite() => OneTurnAtATime(async () =>
    {
        var storage = new GatedStorage();
        var catalog = await JobCatalog.LoadAsync(storage, Owner, pageSize: 100);

        catalog.Set(Summary("a"), persist: true);
        var first = catalog.PersistAsync("a");
        Assert.Equal(1, storage.Writes); // in flight, held by the gate
        var waiting = new List<Task>();
        for (var i = 0; i < 10; i++)
        {
            catalog.Set(Summary($"b{i}"), persist: true);
            waiting.Add(catalog.PersistAsync($"b{i}"));
        }
        Assert.Equal(1, storage.Writes);
        Assert.All(waiting, t => Assert.False(t.IsCompleted));

        storage.ReleaseOne();
        await first;
        // The waiting callers' turns come after this one's: let them run.
        for (var turn = 0; turn < 100 && storage.Writes < 2; turn++) await Task.Yield();
        Assert.Equal(2, storage.Writes); // the ten creates made during the first write share the second
        storage.ReleaseOne();
        await Task.WhenAll(waiting);

        Assert.Equal(2, storage.Writes);
        Assert.Equal(11, storage.Stored[JobCatalog.PageStateName(0)].Count);
    });

    /// <summary>Runs <paramref name="test"/> and its continuations on a scheduler that runs one task at a time, like a grain's turns.</summary>
    private static Task OneTurnAtATime(Func<Task> test) =>
        Task.Factory.StartNew(test, CancellationToken.None, TaskCreationOptions.None, new ConcurrentExclusiveSchedulerPair().ExclusiveScheduler).Unwrap();

    [Fact]
    public async Task Load_ReadsEveryPage_InCreationOrder_AndWritesOnlyThePageThatChanged()
    {
        var storage = new GatedStorage { Open = true };
        var catalog = await JobCatalog.LoadAsync(storage, Owner, pageSize: 4);
        for (var i = 0; i < 10; i++) catalog.Set(Summary($"j{i}"), persist: true);
        await catalog.PersistAllAsync();
        Assert.Equal(3, storage.Writes);

        catalog.Set(Summary("j9") with { State = Summary("j9").State with { Status = JobStatus.Cancelled } }, persist: true);
        catalog.Set(Summary("j0") with { Ledger = default }, persist: false);
        await catalog.PersistAllAsync();
        Assert.Equal(4, storage.Writes); // page 2 only

        var reloaded = await JobCatalog.LoadAsync(storage, Owner, pageSize: 4);
        Assert.Equal(Enumerable.Range(0, 10).Select(i => $"j{i}"), reloaded.Jobs.Select(j => j.State.Id));
        Assert.Equal(3, reloaded.PageCount);
        Assert.Equal(JobStatus.Cancelled, reloaded.Find("j9")!.State.Status);
    }

    private static JobSummary Summary(string id) =>
        new(JobState.Queued(new JobSpec(id, "t", 1, 1, At, null, true, true, 1, [])), "r", At, default);

    /// <summary>Storage in a dictionary; each write waits for <see cref="ReleaseOne"/> unless <see cref="Open"/>.</summary>
    private sealed class GatedStorage : IGrainStorage
    {
        private readonly Queue<TaskCompletionSource> _gates = new();

        public bool Open { get; init; }
        public int Writes { get; private set; }
        public Dictionary<string, List<JobSummary>> Stored { get; } = [];

        public void ReleaseOne() => _gates.Dequeue().SetResult();

        public Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
        {
            grainState.RecordExists = Stored.TryGetValue(stateName, out var jobs);
            if (jobs is not null) grainState.State = (T)(object)new JobCatalogPage { Jobs = [.. jobs] };
            return Task.CompletedTask;
        }

        public async Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
        {
            Writes++;
            var jobs = ((JobCatalogPage)(object)grainState.State!).Jobs.ToList();
            if (!Open)
            {
                var gate = new TaskCompletionSource();
                _gates.Enqueue(gate);
                await gate.Task;
            }
            Stored[stateName] = jobs;
            grainState.RecordExists = true;
        }

        public Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) => throw new NotSupportedException();
    }
}

/// <summary>The dispatcher's catalogue across a restart of the dispatcher grain.</summary>
[Collection(ClusterCollection.Name)]
public sealed class DispatcherCatalogTests(ClusterFixture fixture)
{
    [Fact]
    public async Task Dispatcher_AfterARestart_KnowsEveryJob_LiveAndEnded_AndListsThemAcrossPageBoundaries()
    {
        var fleet = new TestFleet(fixture);
        await fleet.AddSiteAsync("only");
        await fleet.TickAsync(TimeSpan.FromMinutes(1)); // no job yet: the tick only marks the activation
        // (No tick with the jobs: placing 600 jobs one decision at a time would make this test slow.)
        // 600 jobs over many catalogue pages (32 each by default), created concurrently as the API would.
        var ids = Enumerable.Range(0, 600).Select(i => $"j{i:D3}").ToList();
        foreach (var batch in ids.Chunk(50))
            await Task.WhenAll(batch.Select(id => fleet.SubmitAsync(fleet.Job(id, gpus: 1))));
        var ended = await fleet.Client.GetGrain<IJobGrain>(fleet.Id("j300")).CancelAsync(fleet.Now, "test");
        await fleet.Client.GetGrain<IDispatcherGrain>(fleet.Region).TrackAsync(ended);
        Assert.NotNull(await fleet.Client.GetGrain<IDispatcherGrain>(fleet.Region).GetLastTickAsync());

        await fleet.Client.GetGrain<IDispatcherGrain>(fleet.Region).Cast<IGrainManagementExtension>().DeactivateOnIdle();
        var dispatcher = fleet.Client.GetGrain<IDispatcherGrain>(fleet.Region);
        Assert.Null(await dispatcher.GetLastTickAsync()); // a new activation: only the stored catalogue survived

        var listed = new List<JobSummary>();
        for (int? offset = 0; offset is { } o;)
        {
            var page = await dispatcher.ListJobsAsync(new JobQuery(null, null, null, 70, o));
            Assert.Equal(600, page.Total);
            listed.AddRange(page.Jobs);
            offset = page.NextOffset;
        }
        // Creation order: each batch of concurrent creates in the order they reached the dispatcher.
        Assert.Equal(ids.Select(fleet.Id).Order(StringComparer.Ordinal), listed.Select(j => j.State.Id).Order(StringComparer.Ordinal));
        Assert.Equal(JobStatus.Cancelled, Assert.Single(listed, j => j.State.Id == fleet.Id("j300")).State.Status);
        Assert.Equal(599, listed.Count(j => j.State.Status == JobStatus.Queued));
    }
}
