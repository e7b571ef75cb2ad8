namespace Scheduler.Core.Tests;

using CsCheck;
using Scheduler.Core.Accounting;
using Scheduler.Core.Model;
using static Build;

public class AccountingTests
{
    [Fact]
    public void SiteStep_SplitsEnergyBySource_InProportionToJobPower()
    {
        // 1.5 MW load (1,000 + 500 GPUs at 1 kW), 1 MW green, no battery: 0.5 MW from the grid.
        var site = Site("a", gpus: 2000);
        var shares = new JobStepShare[2];
        var r = SiteStep.Run(site, greenSupplyMegawatts: 1, outsideCelsius: 0, stateOfChargeMegawattHours: 0, greenPriceCnyPerKilowattHour: 0.36,
            [new JobLoad("big", 1000, 1, TokensPerGpuHour: 1000), new JobLoad("small", 500, 1, null)], stepHours: 2, shares);

        Assert.Equal(1.5, r.LoadMegawatts, 12);
        Assert.Equal(2.0, r.SiteLedger.GreenMegawattHours, 12);
        Assert.Equal(1.0, r.SiteLedger.GridMegawattHours, 12);
        var big = shares[0];
        Assert.Equal(2000, big.GpuHours, 9);
        Assert.Equal(2.0 * 2 / 3, big.Ledger.GreenMegawattHours, 12);
        Assert.Equal(1.0 * 2 / 3, big.Ledger.GridMegawattHours, 12);
        Assert.Equal(2.0 * 2 / 3 * 1000 * 0.36 + 1.0 * 2 / 3 * 1000 * 0.5, big.Ledger.CostCny, 9);
        Assert.Equal(1.0 * 2 / 3 * 1000 * 0.8, big.Ledger.Co2EmittedKg, 9);
        Assert.Equal(2.0 * 2 / 3 * 1000 * 0.8, big.Ledger.Co2AvoidedKg, 9);
        Assert.Equal(2_000_000, big.Ledger.Tokens, 6);
        Assert.Equal(2_000_000 / 2000.0, big.Ledger.TokensPerKilowattHour, 9);
        Assert.Equal(2.0 / 3, big.Ledger.GreenShare, 12);
    }

    [Fact]
    public void SiteStep_ThrottlesAllLoadEqually_InAShortfall()
    {
        var site = Site("a", gpus: 2000, gridLimitMw: 0.5);
        var shares = new JobStepShare[1];
        var r = SiteStep.Run(site, 0.5, 0, 0, 0.36, [new JobLoad("j", 2000, 1, null)], stepHours: 1, shares);

        Assert.Equal(0.5, r.ServedFraction, 12);
        Assert.Equal(1000, shares[0].GpuHours, 9);
        Assert.Equal(1.0, r.Balance.ShortfallMegawatts, 12);
    }

    [Fact]
    public void SiteStep_JobShares_SumToTheSiteLedger_LessTheBaseLoadShare_ForRandomLoads()
    {
        var gen = Gen.Select(Gen.Double[0, 5], Gen.Double[0, 2], Gen.Int[1, 800].Array[0, 8], Gen.Double[0.1, 1]);
        gen.Sample((green, baseLoad, gpus, active) =>
        {
            var site = Site("a", gpus: 10000, battery: Battery()) with { BaseLoadMegawatts = baseLoad };
            var jobs = gpus.Select((g, i) => new JobLoad($"j{i}", g, active, 10)).ToArray();
            var shares = new JobStepShare[jobs.Length];
            var r = SiteStep.Run(site, green, 0, 5, 0.36, jobs, 0.25, shares);

            var sum = shares.Aggregate(default(EnergyLedger), (acc, j) => acc + j.Ledger);
            var jobShare = r.LoadMegawatts > 0 ? (r.LoadMegawatts - baseLoad) / r.LoadMegawatts : 0;
            Assert.Equal(r.SiteLedger.ComputeMegawattHours * jobShare, sum.ComputeMegawattHours, tolerance: 1e-9);
            Assert.Equal(r.SiteLedger.GreenMegawattHours * jobShare, sum.GreenMegawattHours, tolerance: 1e-9);
            Assert.Equal(r.SiteLedger.Tokens, sum.Tokens, tolerance: 1e-6);
            Assert.Equal(r.Balance.ServedLoadMegawatts * 0.25, r.SiteLedger.ComputeMegawattHours, tolerance: 1e-9);
            Assert.Equal(r.Balance.CurtailmentMegawatts * 0.25, r.SiteLedger.CurtailedMegawattHours, tolerance: 1e-9);
        }, iter: 1000);
    }

    [Fact]
    public void SiteStep_GivesTheSameResult_BitForBit_WhateverOrderTheJobsAreListedIn()
    {
        // Concurrent starts land at a site in any order: a replay must not depend on it. Sites of over 256 jobs sum in a
        // rented buffer rather than on the stack, so both sizes are drawn.
        var job = Gen.Select(Gen.Int[1, 800], Gen.Double[0.01, 1], Gen.Double[0, 5000].Nullable());
        var gen = Gen.Select(Gen.Double[0, 5], Gen.OneOf(job.Array[2, 12], job.Array[250, 400]), Gen.Int);
        gen.Sample((green, loads, seed) =>
        {
            var site = Site("a", gpus: 10000, battery: Battery()) with { BaseLoadMegawatts = 0.3 };
            var jobs = loads.Select((l, i) => new JobLoad($"j{i}", l.Item1, l.Item2, l.Item3)).ToArray();
            var shuffled = jobs.OrderBy(_ => 0).ToArray();
            new Random(seed).Shuffle(shuffled);

            // A buffer longer than the site's jobs, as a site grain's is: only the first shares are the step's.
            var aShares = new JobStepShare[jobs.Length + 3];
            var bShares = new JobStepShare[jobs.Length];
            var a = SiteStep.Run(site, green, 0, 5, 0.36, jobs, 0.25, aShares);
            var b = SiteStep.Run(site, green, 0, 5, 0.36, shuffled, 0.25, bShares);
            Assert.Equal(a.LoadMegawatts, b.LoadMegawatts);
            Assert.Equal(a.Balance, b.Balance);
            Assert.Equal(a.SiteLedger, b.SiteLedger);
            Assert.Equal(aShares[..jobs.Length].OrderBy(s => s.JobId, StringComparer.Ordinal), bShares.OrderBy(s => s.JobId, StringComparer.Ordinal));
            Assert.All(aShares[jobs.Length..], s => Assert.Equal(default, s));
        }, iter: 300);
    }

    [Fact]
    public void SiteStep_RefusesASharesBufferShorterThanItsJobs()
    {
        var ex = Assert.Throws<ArgumentException>(() => SiteStep.Run(Site("a", gpus: 2000), 1, 0, 0, 0.36,
            [new JobLoad("a", 10, 1, null), new JobLoad("b", 10, 1, null)], stepHours: 1, new JobStepShare[1]));
        Assert.Equal("shares", ex.ParamName);
    }

    [Fact]
    public void CoolingModel_FreeCoolsBelowThreshold_AndRampsToMechanicalPue()
    {
        var m = new CoolingModel(1.15, 1.35, FreeCoolingBelowCelsius: 10, RampCelsius: 10);

        Assert.Equal(1.15, m.PueAt(-20), 12);
        Assert.Equal(1.15, m.PueAt(10), 12);
        Assert.Equal(1.25, m.PueAt(15), 12);
        Assert.Equal(1.35, m.PueAt(35), 12);
    }

    [Fact]
    public void Ledger_ForRelocation_CountsTransferEnergyAndVolume()
    {
        var l = EnergyLedger.ForRelocation(gigabytes: 200, transferMwh: 0.002, gridPriceCnyPerKwh: 0.5, gridCarbonKgPerKwh: 0.8);

        Assert.Equal((1, 200.0, 0.002, 1.0, 1.6), (l.Relocations, l.RelocatedGigabytes, l.RelocationMegawattHours, l.CostCny, l.Co2EmittedKg));
    }
}
