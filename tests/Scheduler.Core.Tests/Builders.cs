namespace Scheduler.Core.Tests;

using Scheduler.Core.Lifecycle;
using Scheduler.Core.Model;
using Scheduler.Core.Policy;

/// <summary>Small builders for test data: readable defaults, override what the test is about.</summary>
internal static class Build
{
    public static readonly DateTimeOffset T0 = new(2026, 6, 1, 0, 0, 0, TimeSpan.Zero);

    /// <summary>A site whose GPUs draw exactly 1 kW each at PUE 1 (so 1,000 GPUs = 1 MW), no base load.</summary>
    public static SiteSpec Site(string id, int gpus = 1000, BatterySpec? battery = null, double gridLimitMw = 100, string region = "r") =>
        new(id, region, gpus, KilowattsPerGpu: 1.0, CoolingModel.Constant(1.0), BaseLoadMegawatts: 0,
            battery ?? BatterySpec.None, gridLimitMw, GridPriceCnyPerKilowattHour: 0.5, GridCarbonKgPerKilowattHour: 0.8);

    public static BatterySpec Battery(double capacityMwh = 10, double maxMw = 5, double efficiency = 0.9, double min = 0.1, double max = 0.9) =>
        new(capacityMwh, maxMw, maxMw, efficiency, min, max);

    public static SiteSnapshot Snapshot(SiteSpec spec, double greenMw, double socMwh = 0, params ForecastPoint[] forecast) =>
        new(spec, greenMw, OutsideCelsius: 0, socMwh, forecast);

    public static JobSpec Job(string id, int gpus = 100, double workGpuHours = 1000, DateTimeOffset? deadline = null,
        bool interruptible = true, bool relocatable = true, double checkpointGb = 10, string[]? allowed = null,
        DateTimeOffset? arrival = null, double? tokensPerGpuHour = null) =>
        new(id, "tenant", gpus, workGpuHours, arrival ?? T0, deadline, interruptible, relocatable, checkpointGb, allowed ?? [], tokensPerGpuHour);

    public static JobState Queued(JobSpec spec) => JobState.Queued(spec);

    public static JobState Running(JobSpec spec, string site, DateTimeOffset? since = null) =>
        new(spec, JobStatus.Running, site, spec.WorkGpuHours, since ?? T0.AddDays(-1), null, 1);

    public static JobState Paused(JobSpec spec, string site, DateTimeOffset? since = null) =>
        new(spec, JobStatus.Paused, site, spec.WorkGpuHours, since ?? T0.AddDays(-1), null, 2);

    /// <summary>Links every pair of sites at 100 Gbps.</summary>
    public static IReadOnlyList<LinkSpec> FullMesh(params SiteSpec[] sites) =>
        [.. from a in sites from b in sites where string.CompareOrdinal(a.Id, b.Id) < 0 select new LinkSpec(a.Id, b.Id, 100)];

    public static FleetSnapshot Fleet(DateTimeOffset now, IReadOnlyList<SiteSnapshot> sites, IReadOnlyList<JobState> jobs, IReadOnlyList<LinkSpec>? links = null) =>
        new(now, sites, links ?? FullMesh([.. sites.Select(s => s.Spec)]), jobs);
}
