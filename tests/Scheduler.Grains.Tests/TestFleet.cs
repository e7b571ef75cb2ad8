namespace Scheduler.Grains.Tests;

using Scheduler.Core.Model;

/// <summary>
/// One test's own region in the shared cluster: its sites, plants and jobs carry a unique prefix, and it ticks only
/// its own dispatcher, so tests cannot see each other.
/// </summary>
internal sealed class TestFleet(ClusterFixture fixture)
{
    private readonly List<string> _sites = [];
    private readonly List<LinkSpec> _links = [];

    public string Region { get; } = "r" + Guid.NewGuid().ToString("N")[..8];
    public IClusterClient Client => fixture.Client;
    public DateTimeOffset Now => fixture.Time.GetUtcNow();
    private IFleetGrain Fleet => Client.GetGrain<IFleetGrain>(IFleetGrain.Key);

    public string Id(string name) => $"{Region}-{name}";

    /// <summary>A site of GPUs drawing 1 kW each at PUE 1 (1,000 GPUs = 1 MW), with one 10 MW wind plant.</summary>
    public async Task<string> AddSiteAsync(string name, int gpus = 1000, BatterySpec? battery = null, double gridLimitMw = 10)
    {
        var id = Id(name);
        await Fleet.UpsertSiteAsync(new SiteSpec(id, Region, gpus, 1.0, CoolingModel.Constant(1.0), 0, battery ?? BatterySpec.None, gridLimitMw, 0.5, 0.8));
        await Fleet.UpsertPlantAsync(new PlantSpec(id + "-wind", PlantKind.Wind, 10, id));
        foreach (var other in _sites)
        {
            var link = new LinkSpec(other, id, 100);
            await Fleet.UpsertLinkAsync(link);
            _links.Add(link);
        }
        _sites.Add(id);
        return id;
    }

    /// <summary>
    /// A sample from the site's wind plant; once it is accepted, waits until the site holds it. A plant tells its site
    /// one-way, so with two silos a tick or a read right after the plant's answer could otherwise miss it.
    /// </summary>
    /// <param name="receivedAt">When the server read the sample (real time); default now.</param>
    public async Task<SampleVerdict> ReportAsync(string siteId, double megawatts, DateTimeOffset? at = null, DateTimeOffset? receivedAt = null)
    {
        var plant = siteId + "-wind";
        var time = at ?? Now;
        var verdict = await Client.GetGrain<IPlantGrain>(plant).ReportAsync(new GenerationSample(time, megawatts, null, []), receivedAt ?? DateTimeOffset.UtcNow);
        var site = Client.GetGrain<ISiteGrain>(siteId);
        for (var wait = 0; verdict.Accepted && !(await site.GetAsync())!.Plants.Any(p => p.PlantId == plant && p.At == time); wait++)
        {
            if (wait == 200) throw new TimeoutException($"site {siteId} did not get {plant}'s output of {time:O}");
            await Task.Delay(10);
        }
        return verdict;
    }

    public JobSpec Job(string name, int gpus = 100, double workGpuHours = 1000, bool interruptible = false, bool relocatable = true,
        TimeSpan? deadlineIn = null, double checkpointGb = 10) =>
        new(Id(name), "tenant-" + Region, gpus, workGpuHours, Now, deadlineIn is { } d ? Now + d : null, interruptible, relocatable, checkpointGb, []);

    /// <summary>Creates the job and tells the dispatcher, as the API does.</summary>
    public async Task<JobRecord> SubmitAsync(JobSpec spec, string? requestId = null)
    {
        var record = await Client.GetGrain<IJobGrain>(spec.Id).CreateAsync(spec, requestId ?? "req-" + spec.Id, Region);
        await Client.GetGrain<IDispatcherGrain>(Region).TrackAsync(record);
        return record;
    }

    /// <summary>Advances the shared clock, then steps the region's sites and runs a dispatch round.</summary>
    public Task<TickReport> TickAsync(TimeSpan advance)
    {
        fixture.Time.Advance(advance);
        return Client.GetGrain<IDispatcherGrain>(Region).TickAsync(new RegionTick(Now, _sites, _links));
    }

    public async Task<JobRecord> JobAsync(string name) => (await Client.GetGrain<IJobGrain>(Id(name)).GetAsync())!;

    public async Task<IReadOnlyList<SiteStatus>> SitesAsync() =>
        (await Task.WhenAll(_sites.Select(s => Client.GetGrain<ISiteGrain>(s).GetAsync()))).Select(s => s!).ToList();

    /// <summary>The sites that hold <paramref name="jobId"/> right now (running or arriving).</summary>
    public async Task<IReadOnlyList<string>> SitesHoldingAsync(string jobId) =>
        (await SitesAsync()).Where(s => s.Jobs.Any(a => a.Job.Id == jobId)).Select(s => s.Spec.Id).ToList();

    /// <summary>
    /// Two sites, <c>a</c> lit and <c>b</c> dark, and a relocatable 500-GPU job <c>j</c> placed at <c>a</c> by a tick
    /// <paramref name="step"/> long; tests then move the wind to <c>b</c>.
    /// </summary>
    public async Task<(string A, string B, JobSpec Job)> JobAtALitSiteAsync(TimeSpan step)
    {
        var a = await AddSiteAsync("a");
        var b = await AddSiteAsync("b");
        await TickAsync(step);
        await ReportAsync(a, 5);
        await ReportAsync(b, 0);
        var spec = Job("j", gpus: 500, workGpuHours: 500 * 20);
        await SubmitAsync(spec);
        await TickAsync(step);
        return (a, b, spec);
    }

    /// <summary>Reads until <paramref name="done"/> holds or <paramref name="within"/> (default 10 s) has passed; returns the last read.</summary>
    public static async Task<T> UntilAsync<T>(Func<Task<T>> read, Func<T, bool> done, TimeSpan? within = null)
    {
        var deadline = DateTime.UtcNow + (within ?? TimeSpan.FromSeconds(10));
        while (true)
        {
            var value = await read();
            if (done(value) || DateTime.UtcNow > deadline) return value;
            await Task.Delay(20);
        }
    }
}
