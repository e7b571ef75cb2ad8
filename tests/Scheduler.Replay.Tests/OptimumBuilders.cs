namespace Scheduler.Replay.Tests;

using Scheduler.Core.Model;
using Scheduler.Scenarios;

/// <summary>Builders of hand-made scenarios for the optimum and report tests: readable defaults, override what a test is about.</summary>
internal static class OptimumBuilders
{
    public static readonly DateTimeOffset T0 = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    /// <summary>A site whose GPUs draw exactly 1 kW each at PUE 1 (1,000 GPUs = 1 MW), no base load, no battery.</summary>
    public static SiteSpec Site(string id, int gpus = 1000, double baseLoadMw = 0, BatterySpec? battery = null, double gridLimitMw = 100,
        CoolingModel? cooling = null) =>
        new(id, "r", gpus, KilowattsPerGpu: 1.0, cooling ?? CoolingModel.Constant(1.0), baseLoadMw, battery ?? BatterySpec.None, gridLimitMw,
            GridPriceCnyPerKilowattHour: 0.5, GridCarbonKgPerKilowattHour: 0.8);

    public static JobSpec Job(string id, double workGpuHours, int arrivalHour = 0, int? deadlineHour = null, int gpus = 1000,
        string[]? allowed = null, bool interruptible = true, bool relocatable = true, double? tokensPerGpuHour = null) =>
        new(id, "tenant", gpus, workGpuHours, T0.AddHours(arrivalHour), deadlineHour is { } d ? T0.AddHours(d) : null,
            interruptible, relocatable, CheckpointGigabytes: 10, allowed ?? [], tokensPerGpuHour);

    /// <summary>A scenario of hourly steps; each site gets one wind plant with the given output per step and 0 °C.</summary>
    public static LoadedScenario Scenario(IReadOnlyList<SiteSpec> sites, IReadOnlyDictionary<string, double[]> greenMw,
        IReadOnlyList<JobSpec>? jobs = null, IReadOnlyDictionary<string, double[]>? celsius = null, string name = "hand-made")
    {
        var steps = greenMw.Values.First().Length;
        var plants = sites.Select(s => new PlantSpec($"{s.Id}-wind", PlantKind.Wind, Math.Max(1, greenMw[s.Id].DefaultIfEmpty(0).Max()), s.Id)).ToList();
        return new LoadedScenario(name, T0, TimeSpan.FromHours(1), steps, sites, plants,
            [.. from a in sites from b in sites where string.CompareOrdinal(a.Id, b.Id) < 0 select new LinkSpec(a.Id, b.Id, 100)],
            plants.ToDictionary(p => p.Id, p => greenMw[p.SiteId], StringComparer.Ordinal),
            celsius ?? sites.ToDictionary(s => s.Id, _ => new double[steps], StringComparer.Ordinal),
            (jobs ?? []).OrderBy(j => j.Arrival).ThenBy(j => j.Id, StringComparer.Ordinal).ToList());
    }

    /// <summary>
    /// A synthetic stand-in for great-plains at full size: three sites, a year of hourly steps, wind (a bounded random
    /// walk) and solar (a daily arc) plants, seasonal temperatures, and about 5,000 jobs of which most may run anywhere,
    /// some are pinned to one site, and some have no deadline.
    /// </summary>
    public static LoadedScenario GreatPlainsLike(int seed = 7, int steps = 8760, int jobs = 5200)
    {
        var random = new Random(seed);
        var battery = new BatterySpec(259.2, 64.8, 64.8, 0.9, 0.1, 0.95);
        string[] ids = ["horinger", "ulanqab", "baotou"];
        var sites = ids.Select((id, i) => new SiteSpec(id, "inner-mongolia", 60_000 + 20_000 * i, 1.0, CoolingModel.ColdClimate,
            BaseLoadMegawatts: 40 + 10 * i, battery, GridImportLimitMegawatts: 150, 0.5, 0.8)).ToList();
        var plants = new List<PlantSpec>();
        var output = new Dictionary<string, double[]>(StringComparer.Ordinal);
        var celsius = new Dictionary<string, double[]>(StringComparer.Ordinal);
        for (var i = 0; i < ids.Length; i++)
        {
            var wind = new PlantSpec($"{ids[i]}-wind", PlantKind.Wind, 300, ids[i]);
            var solar = new PlantSpec($"{ids[i]}-pv", PlantKind.Solar, 60 + 30 * i, ids[i]);
            plants.Add(wind);
            plants.Add(solar);
            var windMw = new double[steps];
            var solarMw = new double[steps];
            var temperature = new double[steps];
            var level = random.NextDouble();
            for (var t = 0; t < steps; t++)
            {
                level = Math.Clamp(level + (random.NextDouble() - 0.5) * 0.25, 0, 1);
                windMw[t] = wind.NameplateMegawatts * level * level;
                var hourOfDay = t % 24;
                solarMw[t] = hourOfDay is >= 6 and <= 18 ? solar.NameplateMegawatts * Math.Sin(Math.PI * (hourOfDay - 6) / 12) * (0.6 + 0.4 * random.NextDouble()) : 0;
                temperature[t] = 7.7 - 18 * Math.Cos(2 * Math.PI * t / 8760.0) + 6 * Math.Sin(2 * Math.PI * (hourOfDay - 9) / 24.0) + 2 * i;
            }
            output[wind.Id] = windMw;
            output[solar.Id] = solarMw;
            celsius[ids[i]] = temperature;
        }

        var jobList = new List<JobSpec>(jobs);
        for (var j = 0; j < jobs; j++)
        {
            var arrivalHour = random.Next(0, steps - 1);
            var gpus = 64 << random.Next(0, 6); // 64..2048
            var hours = 2 + random.Next(0, 120);
            var pick = random.NextDouble();
            string[] allowed = pick < 0.7 ? [] : pick < 0.8 ? [ids[0]] : pick < 0.9 ? [ids[1]] : [ids[2]];
            int? deadline = random.NextDouble() < 0.7 ? arrivalHour + (int)(hours * (1.5 + 3 * random.NextDouble())) + 1 : null;
            jobList.Add(new JobSpec($"job-{j:D5}", $"tenant-{j % 7}", gpus, gpus * (double)hours, T0.AddHours(arrivalHour).AddMinutes(random.Next(0, 60)),
                deadline is { } d ? T0.AddHours(d) : null, Interruptible: random.NextDouble() < 0.8, Relocatable: true, CheckpointGigabytes: 50,
                allowed, TokensPerGpuHour: 1e6));
        }
        return new LoadedScenario("great-plains-like", T0, TimeSpan.FromHours(1), steps, sites, plants, [],
            output, celsius, jobList.OrderBy(j => j.Arrival).ThenBy(j => j.Id, StringComparer.Ordinal).ToList());
    }
}
