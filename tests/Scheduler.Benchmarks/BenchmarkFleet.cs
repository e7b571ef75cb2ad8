namespace Scheduler.Benchmarks;

using Scheduler.Core.Accounting;
using Scheduler.Core.Lifecycle;
using Scheduler.Core.Model;
using Scheduler.Core.Policy;

/// <summary>
/// A deterministic, region-scale fleet for the benchmarks: sites, plants, links and non-terminal jobs generated from
/// a seeded <see cref="Random"/>, so every run (and every machine) sees the same snapshot.
/// </summary>
/// <remarks>
/// Shape (defaults): 150 sites of 2,000-8,000 GPUs at 0.7-1.0 kW each, cold-climate cooling, a 20-260 MWh battery
/// (0.9 round trip) and a grid import limit; 1,000 wind and solar plants spread over the sites, whose current output
/// is summed into each site's green supply; each site linked to its 20 nearest neighbours by index (10 on each side,
/// 10-100 Gbps); 10,000 jobs, most running. Each site has a "weather" capacity factor, so some sites are in surplus
/// and some in deficit; some deficit sites have a drained battery, so the dispatcher must pause as well as relocate.
/// </remarks>
public sealed class BenchmarkFleet
{
    /// <summary>The fixed "now" of the snapshot.</summary>
    public static readonly DateTimeOffset Now = new(2025, 6, 1, 12, 0, 0, TimeSpan.Zero);

    private BenchmarkFleet(FleetSnapshot snapshot, IReadOnlyList<PlantSpec> plants, IReadOnlyDictionary<string, double> greenPrice)
    {
        Snapshot = snapshot;
        Plants = plants;
        GreenPriceBySite = greenPrice;
    }

    /// <summary>The snapshot the dispatcher reads.</summary>
    public FleetSnapshot Snapshot { get; }

    /// <summary>The plants whose output makes up each site's green supply.</summary>
    public IReadOnlyList<PlantSpec> Plants { get; }

    /// <summary>Nameplate-weighted green price of each site's plants, CNY/kWh.</summary>
    public IReadOnlyDictionary<string, double> GreenPriceBySite { get; }

    /// <summary>Builds the fleet. Same arguments, same fleet.</summary>
    public static BenchmarkFleet Create(int siteCount = 150, int plantCount = 1_000, int jobCount = 10_000, int linksPerSite = 20, int seed = 20250601)
    {
        var rng = new Random(seed);
        var now = Now;

        // --- Sites -------------------------------------------------------------------------------------------------
        var specs = new SiteSpec[siteCount];
        var outside = new double[siteCount];
        var weather = new double[siteCount];     // wind capacity factor now, per site
        var sun = new double[siteCount];         // solar capacity factor now (noon, minus clouds), per site
        var drained = new bool[siteCount];       // battery near its minimum after a calm night
        for (var i = 0; i < siteCount; i++)
        {
            var capacity = Uniform(rng, 20, 260);
            var battery = new BatterySpec(
                CapacityMegawattHours: capacity,
                MaxChargeMegawatts: capacity / 4,
                MaxDischargeMegawatts: capacity / 4,
                RoundTripEfficiency: 0.9,
                MinStateOfCharge: 0.1,
                MaxStateOfCharge: 0.95);
            specs[i] = new SiteSpec(
                Id: SiteId(i),
                Region: "inner-mongolia",
                GpuCount: rng.Next(2_000, 8_001),
                KilowattsPerGpu: Uniform(rng, 0.7, 1.0),
                Cooling: CoolingModel.ColdClimate,
                BaseLoadMegawatts: Uniform(rng, 0.2, 1.0),
                Battery: battery,
                GridImportLimitMegawatts: Uniform(rng, 0.1, 1.5),
                GridPriceCnyPerKilowattHour: Uniform(rng, 0.45, 0.75),
                GridCarbonKgPerKilowattHour: Uniform(rng, 0.55, 0.85));
            outside[i] = Uniform(rng, -5, 25);
            weather[i] = Uniform(rng, 0.02, 0.85);
            sun[i] = Uniform(rng, 0.05, 0.75);
            drained[i] = rng.NextDouble() < 0.35;
        }

        // --- Jobs --------------------------------------------------------------------------------------------------
        int[] gpuSizes = [1, 2, 4, 8, 8, 16, 16, 32, 64];
        var freeGpus = specs.Select(s => s.GpuCount).ToArray();
        var jobs = new JobState[jobCount];
        var runningGpus = new int[siteCount];
        for (var j = 0; j < jobCount; j++)
        {
            var gpus = gpuSizes[rng.Next(gpuSizes.Length)];
            var durationHours = Uniform(rng, 2, 72);
            var work = gpus * durationHours;
            var arrival = now - TimeSpan.FromHours(Uniform(rng, 0.5, 48));
            var remaining = work * Uniform(rng, 0.1, 1.0);
            var remainingHours = remaining / gpus;
            DateTimeOffset? deadline = null;
            var d = rng.NextDouble();
            if (d < 0.05) deadline = now + TimeSpan.FromHours(remainingHours + Uniform(rng, 0.2, 0.9));       // inside the guard
            else if (d < 0.65) deadline = now + TimeSpan.FromHours(remainingHours * Uniform(rng, 1.2, 3.0) + Uniform(rng, 1.5, 24));
            if (deadline is { } dl && dl <= arrival) deadline = arrival + TimeSpan.FromHours(1);
            var interruptible = rng.NextDouble() < 0.75;
            var relocatable = rng.NextDouble() < 0.65;
            var checkpoint = Uniform(rng, 1, 500);
            IReadOnlyList<string> allowed = [];
            if (rng.NextDouble() < 0.05)
            {
                var start = rng.Next(siteCount);
                allowed = Enumerable.Range(0, 12).Select(k => SiteId((start + k * 7) % siteCount)).ToArray();
            }
            double? tokens = rng.NextDouble() < 0.5 ? Uniform(rng, 1e5, 2e6) : null;
            var spec = new JobSpec($"job-{j:D5}", $"tenant-{rng.Next(40):D2}", gpus, work, arrival, deadline,
                interruptible, relocatable, checkpoint, allowed, tokens);

            // Most jobs changed state long ago (out of the 1 h cooldown); some just did.
            var last = rng.NextDouble() < 0.85
                ? now - TimeSpan.FromHours(Uniform(rng, 1.1, 24))
                : now - TimeSpan.FromMinutes(Uniform(rng, 1, 59));
            if (last < arrival) last = arrival;

            var roll = rng.NextDouble();
            JobState state;
            if (roll < 0.75 || roll >= 0.97)
            {
                var relocating = roll >= 0.97;
                var site = PickSiteWithRoom(rng, spec, freeGpus);
                if (site < 0)
                {
                    state = JobState.Queued(spec);
                }
                else
                {
                    freeGpus[site] -= gpus;
                    runningGpus[site] += gpus;
                    state = relocating
                        ? new JobState(spec, JobStatus.Relocating, SiteId(site), remaining, now - TimeSpan.FromMinutes(Uniform(rng, 1, 20)), now + TimeSpan.FromMinutes(Uniform(rng, 1, 30)), 2)
                        : new JobState(spec, JobStatus.Running, SiteId(site), remaining, last, null, 1);
                }
            }
            else if (roll < 0.87)
            {
                state = JobState.Queued(spec);
            }
            else
            {
                // Paused: its checkpoint is at a site it is allowed to run at.
                var site = spec.AllowedSites.Count > 0 ? IndexOf(spec.AllowedSites[rng.Next(spec.AllowedSites.Count)]) : rng.Next(siteCount);
                state = new JobState(spec, JobStatus.Paused, SiteId(site), remaining, last, null, 2);
            }
            jobs[j] = state;
        }

        // --- Plants and green supply -------------------------------------------------------------------------------
        // Each site's plants are sized so that at a capacity factor of ~0.5 they would carry the site's current load;
        // the site's weather then decides whether it is in surplus or deficit right now.
        var plants = new PlantSpec[plantCount];
        var supply = new double[siteCount];
        var nameplateBySite = new double[siteCount];
        var priceWeighted = new double[siteCount];
        var plantsPerSite = Math.Max(1, plantCount / siteCount);
        for (var p = 0; p < plantCount; p++)
        {
            var site = p % siteCount;
            var pue = specs[site].Cooling.PueAt(outside[site]);
            var loadMw = (specs[site].BaseLoadMegawatts + runningGpus[site] * specs[site].KilowattsPerGpu / 1000.0) * pue;
            var kind = rng.NextDouble() < 0.6 ? PlantKind.Wind : PlantKind.Solar;
            var nameplate = Math.Max(0.1, loadMw / plantsPerSite / 0.5 * Uniform(rng, 0.6, 1.4));
            var price = Uniform(rng, 0.30, 0.40);
            plants[p] = new PlantSpec($"plant-{p:D4}", kind, nameplate, SiteId(site), price);
            var factor = kind == PlantKind.Wind ? weather[site] : sun[site];
            supply[site] += nameplate * Math.Clamp(factor + Uniform(rng, -0.05, 0.05), 0, 1);
            nameplateBySite[site] += nameplate;
            priceWeighted[site] += nameplate * price;
        }

        var sites = new SiteSnapshot[siteCount];
        for (var i = 0; i < siteCount; i++)
        {
            var battery = specs[i].Battery;
            var soc = drained[i]
                ? battery.MinEnergyMegawattHours + Uniform(rng, 0, 0.3)
                : battery.CapacityMegawattHours * Uniform(rng, 0.2, 0.9);
            // 24 hourly points from now: a daily swing around today's supply, with noise.
            var forecast = new ForecastPoint[24];
            var phase = Uniform(rng, 0, 2 * Math.PI);
            var amplitude = Uniform(rng, 0.1, 0.5);
            for (var h = 0; h < forecast.Length; h++)
            {
                var swing = 1 + amplitude * Math.Sin(phase + 2 * Math.PI * h / 24) - amplitude * Math.Sin(phase);
                var mw = Math.Max(0, supply[i] * swing * (1 + Uniform(rng, -0.08, 0.08)));
                forecast[h] = new ForecastPoint(now + TimeSpan.FromHours(h), mw);
            }
            sites[i] = new SiteSnapshot(specs[i], supply[i], outside[i], soc, forecast);
        }

        // --- Links: each site to its linksPerSite nearest neighbours by index (half on each side, wrapping) ---------
        var links = new List<LinkSpec>(siteCount * linksPerSite / 2);
        var half = Math.Min(linksPerSite / 2, (siteCount - 1) / 2);
        for (var i = 0; i < siteCount; i++)
            for (var k = 1; k <= half; k++)
                links.Add(new LinkSpec(SiteId(i), SiteId((i + k) % siteCount), Math.Round(Uniform(rng, 10, 100))));

        var greenPrice = new Dictionary<string, double>(StringComparer.Ordinal);
        for (var i = 0; i < siteCount; i++)
            greenPrice[SiteId(i)] = nameplateBySite[i] > 0 ? priceWeighted[i] / nameplateBySite[i] : PlantSpec.DefaultGreenPriceCnyPerKilowattHour;

        return new BenchmarkFleet(new FleetSnapshot(now, sites, links, jobs), plants, greenPrice);

        static int IndexOf(string siteId) => int.Parse(siteId.AsSpan(5), System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>
    /// The snapshot of the next round: <paramref name="plan"/> (decided on <see cref="Snapshot"/>) applied to the jobs,
    /// transfers landed, the clock <paramref name="after"/> later, the sites' supply and batteries unchanged.
    /// </summary>
    public FleetSnapshot NextRound(DispatchPlan plan, TimeSpan after)
    {
        var now = Snapshot.Now;
        var jobs = Snapshot.Jobs.ToDictionary(j => j.Id, StringComparer.Ordinal);
        foreach (var decision in plan.Decisions) jobs[decision.JobId] = JobLifecycle.Apply(jobs[decision.JobId], decision, now);
        var next = now + after;
        return Snapshot with
        {
            Now = next,
            Jobs = Snapshot.Jobs.Select(j => JobLifecycle.CompleteTransfer(jobs[j.Id], next)).ToArray(),
        };
    }

    /// <summary>The running jobs of one site as the loads of a <see cref="SiteStep"/>, all active for the whole step.</summary>
    public IReadOnlyList<JobLoad> RunningLoads(string siteId) =>
        Snapshot.Jobs.Where(j => j.Status == JobStatus.Running && j.SiteId == siteId)
            .Select(j => new JobLoad(j.Id, j.Spec.Gpus, 1.0, j.Spec.TokensPerGpuHour))
            .ToArray();

    /// <summary>The site whose number of running jobs is closest to <paramref name="target"/> (ties: lowest index).</summary>
    public SiteSnapshot SiteWithRunningJobsNearest(int target)
    {
        var counts = Snapshot.Jobs.Where(j => j.Status == JobStatus.Running && j.SiteId is not null)
            .GroupBy(j => j.SiteId!, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
        return Snapshot.Sites.OrderBy(s => Math.Abs(counts.GetValueOrDefault(s.Spec.Id) - target)).First();
    }

    /// <summary>Site id of index <paramref name="i"/>: <c>site-000</c>...</summary>
    public static string SiteId(int i) => $"site-{i:D3}";

    private static double Uniform(Random rng, double min, double max) => min + rng.NextDouble() * (max - min);

    private static int PickSiteWithRoom(Random rng, JobSpec spec, int[] freeGpus)
    {
        var n = freeGpus.Length;
        if (spec.AllowedSites.Count > 0)
        {
            var offset = rng.Next(spec.AllowedSites.Count);
            for (var k = 0; k < spec.AllowedSites.Count; k++)
            {
                var id = spec.AllowedSites[(offset + k) % spec.AllowedSites.Count];
                var idx = int.Parse(id.AsSpan(5), System.Globalization.CultureInfo.InvariantCulture);
                if (freeGpus[idx] >= spec.Gpus) return idx;
            }
            return -1;
        }
        var start = rng.Next(n);
        for (var k = 0; k < n; k++)
        {
            var idx = (start + k) % n;
            if (freeGpus[idx] >= spec.Gpus) return idx;
        }
        return -1;
    }
}
