namespace Scheduler.Benchmarks;

using System.Globalization;
using Scheduler.Core.Lifecycle;
using Scheduler.Core.Policy;

/// <summary>Decision counts of one dispatch round, and a check that the benchmark fleet exercises every phase.</summary>
public sealed record PlanCounts(int Place, int Relocate, int Pause, int Resume, int Deferrals)
{
    public static PlanCounts Of(DispatchPlan plan) => new(
        plan.Decisions.Count(d => d.Kind == DecisionKind.Place),
        plan.Decisions.Count(d => d.Kind == DecisionKind.Relocate),
        plan.Decisions.Count(d => d.Kind == DecisionKind.Pause),
        plan.Decisions.Count(d => d.Kind == DecisionKind.Resume),
        plan.Deferrals.Count);

    /// <summary>Throws unless the round placed, relocated, paused and resumed at least one job each.</summary>
    public void EnsureEveryKind()
    {
        if (Place == 0 || Relocate == 0 || Pause == 0 || Resume == 0)
            throw new InvalidOperationException($"benchmark fleet does not exercise every dispatcher phase: {this}");
    }

    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"place {Place}, relocate {Relocate}, pause {Pause}, resume {Resume} ({Place + Relocate + Pause + Resume} decisions), deferrals {Deferrals}");
}

/// <summary>Prints what the benchmark fleet looks like and what one round decides on it.</summary>
public static class FleetSanity
{
    public static PlanCounts Run(TextWriter output)
    {
        var fleet = BenchmarkFleet.Create();
        var snapshot = fleet.Snapshot;
        var plan = new Dispatcher(new PolicyOptions()).Decide(snapshot);
        var counts = PlanCounts.Of(plan);

        var byStatus = snapshot.Jobs.GroupBy(j => j.Status).OrderBy(g => g.Key).Select(g => $"{g.Key} {g.Count()}");
        var running = snapshot.Jobs.Where(j => j.HoldsGpus).GroupBy(j => j.SiteId!).ToDictionary(g => g.Key, g => g.Sum(j => j.Spec.Gpus));
        var surplus = 0;
        var deficit = 0;
        foreach (var s in snapshot.Sites)
        {
            var pue = s.Spec.Cooling.PueAt(s.OutsideCelsius);
            var load = (s.Spec.BaseLoadMegawatts + running.GetValueOrDefault(s.Spec.Id) * s.Spec.KilowattsPerGpu / 1000.0) * pue;
            if (running.GetValueOrDefault(s.Spec.Id) > s.Spec.GpuCount)
                throw new InvalidOperationException($"{s.Spec.Id} holds more GPUs than it has");
            if (s.GreenSupplyMegawatts >= load) surplus++; else deficit++;
        }
        var stepSite = fleet.SiteWithRunningJobsNearest(70);

        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"Benchmark fleet: {snapshot.Sites.Count} sites ({surplus} in surplus, {deficit} in deficit), {fleet.Plants.Count} plants, {snapshot.Links.Count} links, {snapshot.Jobs.Count} jobs ({string.Join(", ", byStatus)})"));
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"SiteStep site: {stepSite.Spec.Id} with {fleet.RunningLoads(stepSite.Spec.Id).Count} running jobs"));
        output.WriteLine($"One round: {counts}");
        var next = new Dispatcher(new PolicyOptions()).Decide(fleet.NextRound(plan, TimeSpan.FromMinutes(15)));
        output.WriteLine($"Next round (plan applied, 15 min later): {PlanCounts.Of(next)}");
        counts.EnsureEveryKind();
        return counts;
    }
}
