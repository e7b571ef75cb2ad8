namespace Scheduler.Core.Accounting;

using System.Buffers;
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

/// <summary>Outcome of one site step: the power balance and the site's ledger for the step (each job's share goes to the caller's span).</summary>
/// <param name="ServedFraction">Share of load actually served (below 1 only in a shortfall, when all load is throttled equally).</param>
public sealed record SiteStepResult(
    PowerBalanceResult Balance,
    double LoadMegawatts,
    double ServedFraction,
    EnergyLedger SiteLedger);

/// <summary>
/// One step of one site: compute the facility load of its running jobs, run the power balance, and split the energy
/// by source among the jobs in proportion to their power (the base load keeps its own share in the site ledger).
/// </summary>
public static class SiteStep
{
    /// <summary>Sites this size or smaller sum on the stack; larger ones rent.</summary>
    private const int StackDoubles = 256;

    /// <param name="running">The jobs running at the site.</param>
    /// <param name="shares">Receives each running job's share, in the order of <paramref name="running"/>: at least as long.</param>
    /// <remarks>
    /// The caller owns the buffers: every site steps every tick, and arrays made per step were a third of what the
    /// scheduler allocated at the scale of the performance issue (docs/performance.md).
    /// </remarks>
    public static SiteStepResult Run(SiteSpec site, double greenSupplyMegawatts, double outsideCelsius, double stateOfChargeMegawattHours,
        double greenPriceCnyPerKilowattHour, ReadOnlySpan<JobLoad> running, double stepHours, Span<JobStepShare> shares)
    {
        if (shares.Length < running.Length)
            throw new ArgumentException($"room for {shares.Length} shares, but {running.Length} jobs run", nameof(shares));
        double[]? rented = null;
        var scratch = running.Length <= StackDoubles
            ? stackalloc double[running.Length]
            : (rented = ArrayPool<double>.Shared.Rent(running.Length)).AsSpan(0, running.Length);
        try
        {
            var pue = site.Cooling.PueAt(outsideCelsius);
            var perGpuMegawatts = site.KilowattsPerGpu / 1000.0 * pue;
            for (var i = 0; i < running.Length; i++) scratch[i] = running[i].FacilityMegawatts(perGpuMegawatts, pue);
            var load = site.BaseLoadMegawatts * pue + SumInAnyOrder(scratch);

            var balance = PowerBalance.Step(new PowerBalanceInput(greenSupplyMegawatts, load, stateOfChargeMegawattHours,
                site.Battery, site.GridImportLimitMegawatts, stepHours));
            var served = load > 0 ? balance.ServedLoadMegawatts / load : 1;

            var siteLedger = EnergyLedger.ForEnergy(
                balance.GreenUsedMegawatts * stepHours, balance.DischargeMegawatts * stepHours, balance.GridImportMegawatts * stepHours,
                balance.CurtailmentMegawatts * stepHours, greenPriceCnyPerKilowattHour, site.GridPriceCnyPerKilowattHour, site.GridCarbonKgPerKilowattHour);

            // The scratch now holds each job's tokens.
            for (var i = 0; i < running.Length; i++)
            {
                var job = running[i];
                var share = load > 0 ? job.FacilityMegawatts(perGpuMegawatts, pue) / load : 0;
                var gpuHours = job.ReportedGpuHours ?? job.Gpus * job.ActiveFraction * stepHours * served;
                var jobTokens = scratch[i] = (job.TokensPerGpuHour ?? 0) * gpuHours;
                shares[i] = new JobStepShare(job.JobId, gpuHours, EnergyLedger.ForEnergy(
                    siteLedger.GreenMegawattHours * share, siteLedger.BatteryMegawattHours * share, siteLedger.GridMegawattHours * share, 0,
                    greenPriceCnyPerKilowattHour, site.GridPriceCnyPerKilowattHour, site.GridCarbonKgPerKilowattHour, jobTokens));
            }
            return new SiteStepResult(balance, load, served, siteLedger with { Tokens = SumInAnyOrder(scratch) });
        }
        finally
        {
            if (rented is not null) ArrayPool<double>.Shared.Return(rented);
        }
    }

    /// <summary>
    /// The sum of <paramref name="values"/> (sorted in place), added smallest first, so it is the same bit for bit
    /// whatever order they came in. A site lists its jobs in the order their starts landed, which concurrent starts
    /// don't fix; a floating-point sum in that order would make two runs of the same replay differ in the last digit.
    /// </summary>
    private static double SumInAnyOrder(Span<double> values)
    {
        values.Sort();
        double sum = 0;
        foreach (var v in values) sum += v;
        return sum;
    }
}
