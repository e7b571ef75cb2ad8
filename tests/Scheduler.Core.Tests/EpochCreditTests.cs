namespace Scheduler.Core.Tests;

using CsCheck;
using Scheduler.Core.Accounting;
using Scheduler.Core.Lifecycle;
using static Build;

/// <summary>
/// A site reports each job's progress cumulatively per epoch, so its step state can be written behind: reports told
/// twice, late, out of order, or counted again after the site lost steps must never credit work or energy twice.
/// </summary>
public class EpochCreditTests
{
    private static readonly EnergyLedger PlacedWith = new(1, 0, 0, 0, 0.5, 10, 0, 0, 0, 1, 20); // e.g. a relocation's cost

    /// <summary>A site's counts of one epoch after each of its steps: work and energy per step, cumulated.</summary>
    private static List<EpochProgress> Counts(long epoch, double remaining, EpochProgress? from, IEnumerable<(double GpuHours, double Mwh)> steps)
    {
        var counts = new List<EpochProgress>();
        var (left, ledger) = from is { } f ? (f.RemainingGpuHours, f.Ledger) : (remaining, default(EnergyLedger));
        foreach (var (gpuHours, mwh) in steps)
        {
            left -= gpuHours;
            ledger += EnergyLedger.ForEnergy(mwh, 0, mwh / 4, 0, 0.3, 0.5, 0.6, tokens: gpuHours * 100);
            counts.Add(new EpochProgress(epoch, left, ledger));
        }
        return counts;
    }

    private static (JobState Job, EnergyLedger Ledger, EpochCredit? Credit) CreditAll(JobState job, IEnumerable<EpochProgress> reports)
    {
        (JobState Job, EnergyLedger Ledger, EpochCredit? Credit) s = (job, PlacedWith, null);
        foreach (var r in reports) s = JobLifecycle.Credit(s.Job, s.Ledger, s.Credit, r, T0);
        return s;
    }

    /// <summary>
    /// Work and energy per step, in whole hundredths of a GPU-hour and thousandths of a MWh: a step that draws, say,
    /// 1e-20 MWh vanishes from some of the ledger's sums and not others, which makes two counts equal in the order
    /// credits follow but different in their last digits.
    /// </summary>
    private static readonly Gen<(double, double)[]> Steps =
        Gen.Select(Gen.Double[0, 3].Select(g => Math.Round(g, 2)), Gen.Double[0, 2].Select(m => Math.Round(m, 3))).Array[1, 30];

    [Fact]
    public void Reports_InAnyOrder_AnyNumberOfTimes_CreditWhatTheFurthestSays()
    {
        Gen.Select(Steps, Gen.Int).Sample((steps, seed) =>
        {
            var job = Running(Job("j", gpus: 10, workGpuHours: 1000), "a");
            var counts = Counts(job.Epoch, job.RemainingGpuHours, null, steps);
            var rng = new Random(seed);
            var told = counts.Concat(counts.Where(_ => rng.Next(3) == 0)).OrderBy(_ => rng.Next()).ToList();

            var inOrder = CreditAll(job, counts);
            var shuffled = CreditAll(job, told);

            Assert.Equal(counts[^1].RemainingGpuHours, inOrder.Job.RemainingGpuHours);
            Assert.Equal(PlacedWith + counts[^1].Ledger, inOrder.Ledger);
            Assert.Equal(inOrder, shuffled);
        });
    }

    [Fact]
    public void ASiteThatLostSteps_AndCountsThemAgain_NeverCreditsMoreThanItsFurthestCount()
    {
        Gen.Select(Steps, Steps, Gen.Int).Sample((before, after, seed) =>
        {
            var job = Running(Job("j", gpus: 10, workGpuHours: 1000), "a");
            var counts = Counts(job.Epoch, job.RemainingGpuHours, null, before);
            var kept = new Random(seed).Next(counts.Count + 1); // the steps the site had written before it crashed
            var recounted = Counts(job.Epoch, job.RemainingGpuHours, kept == 0 ? null : counts[kept - 1], after);
            var all = counts.Concat(recounted).ToList();

            var (credited, ledger, _) = CreditAll(job, all);

            // Furthest: least work left, then most energy drawn; among equals, the first told.
            var furthest = all.OrderBy(c => c.RemainingGpuHours).ThenByDescending(c => c.Ledger.ComputeMegawattHours).First();
            Assert.Equal(furthest.RemainingGpuHours, credited.RemainingGpuHours);
            Assert.Equal(PlacedWith + furthest.Ledger, ledger);
        });
    }

    [Fact]
    public void AReportOfAnotherEpoch_OrForAJobNotRunning_ChangesNothing()
    {
        var job = Running(Job("j", gpus: 10, workGpuHours: 100), "a");
        var report = new EpochProgress(job.Epoch, 50, new EnergyLedger(1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0));

        Assert.Equal((job, PlacedWith, (EpochCredit?)null), JobLifecycle.Credit(job, PlacedWith, null, report with { Epoch = job.Epoch - 1 }, T0));
        var paused = job with { Status = JobStatus.Paused };
        Assert.Equal((paused, PlacedWith, (EpochCredit?)null), JobLifecycle.Credit(paused, PlacedWith, null, report, T0));
    }

    [Fact]
    public void TheFirstReportOfANewEpoch_AddsToTheLedgerTheJobHadThen_AndTheLastCompletesTheJob()
    {
        var job = Running(Job("j", gpus: 10, workGpuHours: 100), "a");
        var first = JobLifecycle.Credit(job, default, null, new EpochProgress(job.Epoch, 60, new EnergyLedger(4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)), T0);
        // Relocated: a new epoch, whose move cost the ledger now holds.
        var moved = first.Job with { Epoch = job.Epoch + 1 };
        var ledger = first.Ledger + PlacedWith;

        var second = JobLifecycle.Credit(moved, ledger, first.Credit, new EpochProgress(moved.Epoch, 20, new EnergyLedger(2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)), T0);
        Assert.Equal(20, second.Job.RemainingGpuHours);
        Assert.Equal(6 + PlacedWith.GreenMegawattHours, second.Ledger.GreenMegawattHours);

        var done = JobLifecycle.Credit(second.Job, second.Ledger, second.Credit, new EpochProgress(moved.Epoch, 1e-12, default), T0.AddHours(1));
        Assert.Equal((JobStatus.Completed, 0.0, T0.AddHours(1)), (done.Job.Status, done.Job.RemainingGpuHours, done.Job.LastTransitionAt));
    }

    [Fact]
    public void AStepThatDrawsPowerButDoesNoWork_StillCounts()
    {
        var job = Running(Job("j", gpus: 10, workGpuHours: 100), "a");
        var idle = new EpochProgress(job.Epoch, 100, new EnergyLedger(0.5, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0));
        var (_, ledger, credit) = JobLifecycle.Credit(job, default, null, idle, T0);
        Assert.Equal(0.5, ledger.GreenMegawattHours);
        Assert.Equal(idle, credit!.Value.Counted);
    }
    /// <summary>
    /// A site counts its jobs' steps on the count alone (no new job state per step). Crediting its counts must give the
    /// job stepping the job itself gives: the same work left, completed at the same step, and the energy summed.
    /// </summary>
    [Fact]
    public void CountingSteps_ThenCrediting_IsProgressingTheJob()
    {
        // Work that the first steps use up in decimal terms leaves float dust (0.3 - 0.1 - 0.2 > 0), which is done.
        Gen.Select(Steps, Gen.Int[1, 30], Gen.Double[0.5, 40]).Sample((steps, used, other) =>
        {
            var work = Math.Round(steps.Take(used).Sum(s => s.Item1), 2) is > 0 and var sum && used % 2 == 0 ? sum : Math.Round(other, 2);
            var placed = Running(Job("j", gpus: 2, workGpuHours: work), "a");
            var stepped = placed;
            var count = new EpochProgress(placed.Epoch, placed.RemainingGpuHours, default);
            var ledger = default(EnergyLedger);
            foreach (var (gpuHours, mwh) in steps)
            {
                if (stepped.Status != JobStatus.Running) break;
                var energy = EnergyLedger.ForEnergy(mwh, 0, mwh / 4, 0, 0.3, 0.5, 0.6, tokens: gpuHours * 100);
                stepped = JobLifecycle.Progress(stepped, gpuHours, T0);
                count = JobLifecycle.Progress(placed, count, gpuHours, energy);
                ledger += energy;
                Assert.Equal(stepped.Status == JobStatus.Completed, count.IsComplete);
            }
            var credited = JobLifecycle.Credit(placed, PlacedWith, null, count, T0);
            Assert.Equal(stepped.RemainingGpuHours, credited.Job.RemainingGpuHours);
            Assert.Equal(stepped.Status, credited.Job.Status);
            Assert.Equal(PlacedWith + ledger, credited.Ledger);
        });
    }

    [Fact]
    public void CountingAStep_OfAnotherEpoch_OrOfAJobNotRunning_Throws()
    {
        var job = Running(Job("j"), "a");
        var count = new EpochProgress(job.Epoch, job.RemainingGpuHours, default);
        Assert.Throws<ArgumentException>(() => JobLifecycle.Progress(job, count with { Epoch = job.Epoch + 1 }, 1, default));
        Assert.Throws<InvalidJobTransitionException>(() => JobLifecycle.Progress(Paused(Job("j"), "a"), count, 1, default));
        Assert.Throws<ArgumentOutOfRangeException>(() => JobLifecycle.Progress(job, count, double.NaN, default));
    }
}
