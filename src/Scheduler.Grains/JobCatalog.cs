namespace Scheduler.Grains;

using System.Globalization;
using Orleans.Storage;

/// <summary>One stored page of a region's job catalogue: up to the region's page size of summaries, in creation order.</summary>
[GenerateSerializer]
public sealed class JobCatalogPage
{
    [Id(0)] public List<JobSummary> Jobs { get; set; } = [];
}

/// <summary>
/// A region's job catalogue: every job of the region, terminal ones too, in creation order. It lives in memory and is
/// stored in fixed-size pages, each its own storage record (state name <c>dispatcher.catalog.NNNNN</c> of the
/// dispatcher's grain id), so that adding a job writes one page, not the whole catalogue. See docs/adr/0004.
/// </summary>
/// <remarks>
/// <para>Writes of one page are group-committed: while a page is being written, later changes to it wait and go out
/// together in the next write, so N concurrent creates cost about two page writes rather than N. Writes of different
/// pages run concurrently; writes of one page never overlap (the ETag of each page stays in step).</para>
/// <para>What is stored: a job when it is added, and again when it ends (terminal states are final). Changes in between
/// (placed, progress, paused, relocated) are not written here: the job grains hold them, and a dispatcher reloads every
/// job that its pages show as live from its job grain when it activates.</para>
/// <para>Not thread-safe: it belongs to one grain activation, whose turns never run in parallel (interleaved turns
/// still run one at a time, switching only at awaits).</para>
/// </remarks>
internal sealed class JobCatalog
{
    private readonly IGrainStorage _storage;
    private readonly GrainId _owner;
    private readonly List<JobSummary> _jobs = [];
    private readonly Dictionary<string, int> _index = new(StringComparer.Ordinal);
    private readonly List<Page> _pages = [];

    private JobCatalog(IGrainStorage storage, GrainId owner, int pageSize)
    {
        _storage = storage;
        _owner = owner;
        PageSize = pageSize;
    }

    /// <summary>Jobs per stored page. Fixed for a region once its first page exists (pages are positional).</summary>
    public int PageSize { get; }

    public IReadOnlyList<JobSummary> Jobs => _jobs;

    public int Count => _jobs.Count;

    /// <summary>Stored pages (for tests and diagnostics).</summary>
    public int PageCount => _pages.Count;

    public bool Contains(string jobId) => _index.ContainsKey(jobId);

    public JobSummary? Find(string jobId) => _index.TryGetValue(jobId, out var i) ? _jobs[i] : null;

    public static string PageStateName(int page) => "dispatcher.catalog." + page.ToString("D5", CultureInfo.InvariantCulture);

    /// <summary>Reads pages 0, 1, … until the first that does not exist (pages are written in order, so none is skipped).</summary>
    public static async Task<JobCatalog> LoadAsync(IGrainStorage storage, GrainId owner, int pageSize)
    {
        var catalog = new JobCatalog(storage, owner, pageSize);
        for (var n = 0; ; n++)
        {
            var stored = new GrainState<JobCatalogPage>();
            await storage.ReadStateAsync(PageStateName(n), owner, stored);
            if (!stored.RecordExists) break;
            catalog._pages.Add(new Page(n, stored));
            foreach (var job in stored.State?.Jobs ?? [])
            {
                // A page is written whole, and a job is in exactly one page; the check only guards against a bad record.
                if (catalog._index.ContainsKey(job.State.Id)) continue;
                catalog._index[job.State.Id] = catalog._jobs.Count;
                catalog._jobs.Add(job);
            }
        }
        return catalog;
    }

    /// <summary>
    /// Adds a job it does not know (its page must then be written), or replaces the summary of one it knows; a replaced
    /// summary's page is marked for writing only when <paramref name="persist"/> is set.
    /// </summary>
    public void Set(JobSummary summary, bool persist)
    {
        if (_index.TryGetValue(summary.State.Id, out var i))
        {
            _jobs[i] = summary;
            if (persist) PageOf(i).Version++;
            return;
        }
        i = _jobs.Count;
        _index[summary.State.Id] = i;
        _jobs.Add(summary);
        PageOf(i).Version++;
    }

    /// <summary>Completes once the page holding the job has been written with every change made to it so far.</summary>
    public Task PersistAsync(string jobId) =>
        _index.TryGetValue(jobId, out var i) ? EnsureWrittenAsync(PageOf(i)) : Task.CompletedTask;

    /// <summary>Writes every page with unwritten changes (concurrently; each page group-committed).</summary>
    public Task PersistAllAsync()
    {
        var pending = _pages.Where(p => p.Written < p.Version).Select(EnsureWrittenAsync).ToList();
        return pending.Count == 0 ? Task.CompletedTask : Task.WhenAll(pending);
    }

    private Page PageOf(int index)
    {
        var n = index / PageSize;
        while (_pages.Count <= n) _pages.Add(new Page(_pages.Count, new GrainState<JobCatalogPage>()));
        return _pages[n];
    }

    /// <summary>
    /// Group commit: a write in flight may have been started before this caller's change, so after it the caller
    /// looks again; the first caller to find no write in flight starts one, which takes every change made so far.
    /// </summary>
    private async Task EnsureWrittenAsync(Page page)
    {
        var target = page.Version;
        while (page.Written < target)
        {
            // A faulted write is retried by the next caller; the callers that awaited it see its exception.
            if (page.Writing is not { IsCompleted: false }) page.Writing = WriteAsync(page);
            await page.Writing;
        }
    }

    private async Task WriteAsync(Page page)
    {
        var version = page.Version;
        var start = page.Number * PageSize;
        // A copy: the list may change while the storage provider is busy with the write.
        page.Stored.State = new JobCatalogPage { Jobs = _jobs.GetRange(start, Math.Min(PageSize, _jobs.Count - start)) };
        await _storage.WriteStateAsync(PageStateName(page.Number), _owner, page.Stored);
        page.Written = Math.Max(page.Written, version);
    }

    /// <summary>One stored page: its record (with the ETag), how many changes it has had, and how many are written.</summary>
    private sealed class Page(int number, GrainState<JobCatalogPage> stored)
    {
        public int Number { get; } = number;
        public GrainState<JobCatalogPage> Stored { get; } = stored;
        public long Version { get; set; }
        public long Written { get; set; }
        public Task? Writing { get; set; }
    }
}
