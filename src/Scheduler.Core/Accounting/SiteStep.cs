namespace Scheduler.Core.Accounting;

using Scheduler.Core.Model;
using Scheduler.Core.Power;

/// <summary>A job drawing power at a site during a step.</summary>
/// <param name="JobId">The job.</param>
/// <param name="Gpus">Its GPUs.</param>
/// <param name="ActiveFraction">Share of the step it runs (below 1 when it finishes within the step), 0..1.</param>
/// <param name="TokensPerGpuHour">Its token rate, if a token workload.</param>
/// <param name="ReportedGpuHours">Work a site agent reported for the step (see <see cref="Execution.AgentWork"/>),
/// credited as it is; null: the clock executor credits GPUs × active time × served share.</param>
/// <param name="ReportedItMegawatts">IT power a site agent reported (measured or estimated), MW, used instead of
/// GPUs × kW per GPU while the job is active; the site's PUE still applies. Null: the site's model.</param>
public readonly record struct JobLoad(string JobId, int Gpus, double ActiveFraction, double? TokensPerGpuHour, double? ReportedGpuHours = null,
    double? ReportedItMegawatts = null)
{
    /// <summary>The job's facility power over the step at a site, MW.</summary>
    /// <remarks>The model's product keeps its old order (GPUs × active × per GPU), so clock-run results stay bit for bit.</remarks>
    public double FacilityMegawatts(double perGpuFacilityMegawatts, double pue) =>
        ReportedItMegawatts is { } it ? ActiveFraction * it * pue : Gpus * ActiveFraction * perGpuFacilityMegawatts;
}

/// <summary>One job's part of a site step: the work it did and the energy it drew.</summary>
public readonly record struct JobStepShare(string JobId, double GpuHours, EnergyLedger Ledger);

/// <summary>Outcome of one site step: the power balance, the site's ledger for the step, and each job's share.</summary>
/// <param name="ServedFraction">Share of load actually served (below 1 only in a shortfall, when all load is throttled equally).</param>
public sealed record SiteStepResult(
    PowerBalanceResult Balance,
    double LoadMegawatts,
    double ServedFraction,
    EnergyLedger SiteLedger,
    IReadOnlyList<JobStepShare> Jobs);

/// <summary>
/// One step of one site: compute the facility load of its running jobs, run the power balance, and split the energy
/// by source among the jobs in proportion to their power (the base load keeps its own share in the site ledger).
/// </summary>
public static class SiteStep
{
    public static SiteStepResult Run(SiteSpec site, double greenSupplyMegawatts, double outsideCelsius, double stateOfChargeMegawattHours,
        double greenPriceCnyPerKilowattHour, IReadOnlyList<JobLoad> running, double stepHours)
    {
        var pue = site.Cooling.PueAt(outsideCelsius);
        var perGpuMegawatts = site.KilowattsPerGpu / 1000.0 * pue;
        var jobMegawatts = new double[running.Count];
        for (var i = 0; i < running.Count; i++) jobMegawatts[i] = running[i].FacilityMegawatts(perGpuMegawatts, pue);
        var load = site.BaseLoadMegawatts * pue + SumInAnyOrder(jobMegawatts);

        var balance = PowerBalance.Step(new PowerBalanceInput(greenSupplyMegawatts, load, stateOfChargeMegawattHours,
            site.Battery, site.GridImportLimitMegawatts, stepHours));
        var served = load > 0 ? balance.ServedLoadMegawatts / load : 1;

        var siteLedger = EnergyLedger.ForEnergy(
            balance.GreenUsedMegawatts * stepHours, balance.DischargeMegawatts * stepHours, balance.GridImportMegawatts * stepHours,
            balance.CurtailmentMegawatts * stepHours, greenPriceCnyPerKilowattHour, site.GridPriceCnyPerKilowattHour, site.GridCarbonKgPerKilowattHour);

        var shares = new JobStepShare[running.Count];
        var tokens = new double[running.Count];
        for (var i = 0; i < running.Count; i++)
        {
            var job = running[i];
            var share = load > 0 ? job.FacilityMegawatts(perGpuMegawatts, pue) / load : 0;
            var gpuHours = job.ReportedGpuHours ?? job.Gpus * job.ActiveFraction * stepHours * served;
            var jobTokens = tokens[i] = (job.TokensPerGpuHour ?? 0) * gpuHours;
            shares[i] = new JobStepShare(job.JobId, gpuHours, EnergyLedger.ForEnergy(
                siteLedger.GreenMegawattHours * share, siteLedger.BatteryMegawattHours * share, siteLedger.GridMegawattHours * share, 0,
                greenPriceCnyPerKilowattHour, site.GridPriceCnyPerKilowattHour, site.GridCarbonKgPerKilowattHour, jobTokens));
        }
        return new SiteStepResult(balance, load, served, siteLedger with { Tokens = SumInAnyOrder(tokens) }, shares);
    }

    /// <summary>
    /// The sum of <paramref name="values"/> (sorted in place), added smallest first, so it is the same bit for bit
    /// whatever order they came in. A site lists its jobs in the order their starts landed, which concurrent starts
    /// don't fix; a floating-point sum in that order would make two runs of the same replay differ in the last digit.
    /// </summary>
    private static double SumInAnyOrder(double[] values)
    {
        Array.Sort(values);
        double sum = 0;
        foreach (var v in values) sum += v;
        return sum;
    }
}
