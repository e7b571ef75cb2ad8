namespace Scheduler.Scenarios.Tests;

using System.Diagnostics;
using System.Globalization;
using System.Text;
using Xunit.Abstractions;

/// <summary>The shipped scenarios are sized so scheduling matters; the figures are printed for docs/scenarios.md.</summary>
public sealed class ScenarioSizingTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData("inner-mongolia")]
    [InlineData("great-plains")]
    [InlineData("winter-stress")]
    public void ShippedScenario_IsSizedSoSchedulingMatters(string name)
    {
        var cpu = Process.GetCurrentProcess().TotalProcessorTime;
        var watch = Stopwatch.StartNew();
        var s = ScenarioCatalog.Load(name);
        var loadMs = watch.Elapsed.TotalMilliseconds;
        var cpuMs = (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalMilliseconds; // wall time suffers on a shared machine
        var hours = s.Step.TotalHours;
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"{name}: {s.Steps} steps of {s.Step}, {s.Jobs.Count} jobs, load {loadMs:F0} ms wall, {cpuMs:F0} ms CPU (all threads, incl. JIT)");
        double green = 0, baseLoad = 0, gpuCapacity = 0, totalJobGpuHours = s.Jobs.Sum(j => j.WorkGpuHours);
        foreach (var site in s.Sites)
        {
            double siteGreen = 0, siteBase = 0, peakGreen = 0, minGreen = double.MaxValue;
            for (var k = 0; k < s.Steps; k++)
            {
                var g = s.SiteGreenMegawatts(site.Id, k);
                siteGreen += g * hours;
                peakGreen = Math.Max(peakGreen, g);
                minGreen = Math.Min(minGreen, g);
                siteBase += site.BaseLoadFacilityMegawatts(s.SiteCelsius[site.Id][k]) * hours;
            }
            var meanPue = s.SiteCelsius[site.Id].Average(c => site.Cooling.PueAt(c));
            var pinned = s.Jobs.Where(j => j.AllowedSites.Count == 1 && j.AllowedSites[0] == site.Id).Sum(j => j.WorkGpuHours);
            var gpuMw = site.GpuPowerMegawatts(site.GpuCount, 0);
            text.AppendLine(CultureInfo.InvariantCulture,
                $"  {site.Id,-10} green {siteGreen,9:F0} MWh (mean {siteGreen / (s.Steps * hours),6:F1} MW, min {minGreen,5:F1}, max {peakGreen,6:F1}), base {siteBase,8:F0} MWh, GPUs {site.GpuCount} (= {gpuMw:F1} MW at free-cooling PUE), mean PUE {meanPue:F3}, T {s.SiteCelsius[site.Id].Min():F1}..{s.SiteCelsius[site.Id].Max():F1} C, pinned {pinned:F0} GPU-h, battery {site.Battery.CapacityMegawattHours} MWh");
            foreach (var plant in s.Plants.Where(p => p.SiteId == site.Id))
                text.AppendLine(CultureInfo.InvariantCulture, $"      {plant.Id,-16} CF {s.PlantMegawatts[plant.Id].Average() / plant.NameplateMegawatts:F3}");
            green += siteGreen;
            baseLoad += siteBase;
            gpuCapacity += site.GpuCount * s.Steps * hours;
        }
        var kw = s.Sites.Average(x => x.KilowattsPerGpu);
        var pue = s.Sites.Average(x => s.SiteCelsius[x.Id].Average(c => x.Cooling.PueAt(c)));
        var jobMwh = totalJobGpuHours * kw / 1000 * pue;
        text.AppendLine(CultureInfo.InvariantCulture,
            $"  total green {green:F0} MWh; base {baseLoad:F0} MWh; jobs {totalJobGpuHours:F0} GPU-h ≈ {jobMwh:F0} MWh facility; base+jobs = {(baseLoad + jobMwh) / green:P0} of green; jobs use {totalJobGpuHours / gpuCapacity:P0} of GPU-hours");
        text.AppendLine(CultureInfo.InvariantCulture,
            $"  jobs: interruptible {s.Jobs.Count(j => j.Interruptible)}, relocatable {s.Jobs.Count(j => j.Relocatable)}, pinned {s.Jobs.Count(j => j.AllowedSites.Count == 1)}, max GPUs {s.Jobs.Max(j => j.Gpus)}");
        output.WriteLine(text.ToString());

        // Scheduling matters: green energy is neither plentiful enough to cover everything with ease, nor too scarce to matter.
        var demandShare = (baseLoad + jobMwh) / green;
        Assert.InRange(demandShare, 0.6, 1.4);
        Assert.InRange(totalJobGpuHours / gpuCapacity, 0.2, 0.8); // spare GPUs exist at every site on average
    }
}
