namespace Scheduler.Core.Tests;

using CsCheck;
using Scheduler.Core.Lifecycle;
using Scheduler.Core.Model;
using Scheduler.Core.Policy;
using static Build;

/// <summary>Invariants of a dispatch round over random fleets.</summary>
public class DispatcherPropertyTests
{
    /// <summary>
    /// A random but valid fleet: 1-6 sites with random supply, batteries and links; up to 40 jobs in every
    /// non-terminal state, bound only where GPUs allow (so the snapshot itself never over-commits).
    /// </summary>
    internal static FleetSnapshot RandomFleet(int seed)
    {
        var rng = new Random(seed);
        var sites = Enumerable.Range(0, rng.Next(1, 7)).Select(i => new SiteSpec(
            $"s{i}", "r", rng.Next(0, 2000), 0.5 + rng.NextDouble(), new CoolingModel(1.1, 1.4, 10, 10), rng.NextDouble(),
            new BatterySpec(rng.NextDouble() * 20, rng.NextDouble() * 5, rng.NextDouble() * 5, 0.8 + rng.NextDouble() * 0.2, 0.1, 0.9),
            rng.NextDouble() * 3, 0.5, 0.8)).ToArray();
        var snapshots = sites.Select(s => new SiteSnapshot(s, rng.NextDouble() * 4, rng.Next(-20, 35),
            s.Battery.MinEnergyMegawattHours + rng.NextDouble() * (s.Battery.MaxEnergyMegawattHours - s.Battery.MinEnergyMegawattHours),
            rng.Next(3) == 0 ? [] : [.. Enumerable.Range(1, 6).Select(h => new ForecastPoint(T0.AddHours(h), rng.NextDouble() * 4))])).ToArray();
        var links = (from a in sites from b in sites
                     where string.CompareOrdinal(a.Id, b.Id) < 0 && rng.Next(4) > 0
                     select new LinkSpec(a.Id, b.Id, 1 + rng.NextDouble() * 99)).ToList();
        var free = sites.ToDictionary(s => s.Id, s => s.GpuCount);
        var jobs = new List<JobState>();
        for (var j = 0; j < rng.Next(0, 41); j++)
        {
            var gpus = rng.Next(1, 600);
            var work = gpus * (0.1 + rng.NextDouble() * 20);
            DateTimeOffset? deadline = rng.Next(3) == 0 ? null : T0.AddHours(work / gpus * (0.5 + rng.NextDouble() * 3));
            string[] allowed = rng.Next(4) == 0 ? [sites[rng.Next(sites.Length)].Id] : [];
            var spec = new JobSpec($"j{j}", "t", gpus, work, T0.AddHours(-rng.Next(0, 48)), deadline, rng.Next(3) > 0, rng.Next(3) > 0,
                rng.NextDouble() * 300, allowed);
            var site = sites[rng.Next(sites.Length)].Id;
            var status = (JobStatus)rng.Next(0, 4);
            if (status is JobStatus.Running or JobStatus.Relocating && (free[site] < gpus || !spec.AllowsSite(site))) status = JobStatus.Queued;
            if (status is JobStatus.Running or JobStatus.Relocating) free[site] -= gpus;
            jobs.Add(new JobState(spec, status, status == JobStatus.Queued ? null : site, work * rng.NextDouble(),
                rng.Next(2) == 0 ? null : T0.AddMinutes(-rng.Next(0, 180)),
                status == JobStatus.Relocating ? T0.AddMinutes(5) : null, 1));
        }
        return new FleetSnapshot(T0, snapshots, links, jobs);
    }

    [Theory]
    [InlineData(RoundScope.Full)]
    [InlineData(RoundScope.StartsOnly)]
    public void Decide_NeverOverCommitsASite_NorBindsAJobTwice_ForRandomFleets(RoundScope scope)
    {
        Gen.Int.Sample(seed =>
        {
            var fleet = RandomFleet(seed);
            // One dispatcher per sample: a dispatcher is not thread-safe and CsCheck samples in parallel.
            var plan = new Dispatcher(new PolicyOptions()).Decide(fleet, scope);

            // One decision per job at most, and each is a legal transition for the job's state.
            Assert.Equal(plan.Decisions.Count, plan.Decisions.Select(d => d.JobId).Distinct().Count());
            var jobs = fleet.Jobs.ToDictionary(j => j.Id);
            foreach (var d in plan.Decisions)
                jobs[d.JobId] = JobLifecycle.Apply(jobs[d.JobId], d, fleet.Now);

            // After the round, GPUs held at each site fit in the site.
            foreach (var site in fleet.Sites)
            {
                var held = jobs.Values.Where(j => j.HoldsGpus && j.SiteId == site.Spec.Id).Sum(j => j.Spec.Gpus);
                Assert.True(held <= site.Spec.GpuCount, $"seed {seed}: {site.Spec.Id} holds {held} of {site.Spec.GpuCount} GPUs");
            }
        }, iter: 1000);
    }

    [Fact]
    public void Decide_RespectsJobConstraints_AndExplainsEveryMove_ForRandomFleets()
    {
        var seen = new System.Collections.Concurrent.ConcurrentDictionary<DecisionKind, int>();
        Gen.Int.Sample(seed =>
        {
            var fleet = RandomFleet(seed);
            var plan = new Dispatcher(new PolicyOptions()).Decide(fleet);
            var jobs = fleet.Jobs.ToDictionary(j => j.Id);
            foreach (var d in plan.Decisions) seen.AddOrUpdate(d.Kind, 1, (_, n) => n + 1);

            foreach (var d in plan.Decisions)
            {
                var job = jobs[d.JobId];
                Assert.True(job.Spec.AllowsSite(d.ToSiteId), $"seed {seed}: {d.JobId} sent to disallowed {d.ToSiteId}");
                if (job.SiteId is not null && d.ToSiteId != job.SiteId)
                {
                    Assert.True(job.Spec.Relocatable, $"seed {seed}: non-relocatable {d.JobId} moved");
                    Assert.NotNull(d.Relocation);
                }
                if (d.Kind == DecisionKind.Pause)
                {
                    Assert.True(job.Spec.Interruptible, $"seed {seed}: non-interruptible {d.JobId} paused");
                    // A voluntary pause never eats into the deadline guard.
                    if (d.Reason == DecisionReasons.DeficitBeyondBattery)
                        Assert.True(job.Slack(fleet.Now) > new PolicyOptions().DeadlineGuard, $"seed {seed}: {d.JobId} paused inside its guard");
                }
                else
                {
                    // Place, resume and relocate say where they looked; the chosen site passed every filter.
                    var chosen = Assert.Single(d.Candidates, c => c.SiteId == d.ToSiteId);
                    Assert.True(chosen.Passed);
                    Assert.All(d.Candidates, c => Assert.True(c.Passed || !string.IsNullOrEmpty(c.Rejection)));
                }
            }
        }, iter: 1000);

        // The generator must exercise every kind of decision, or the properties above prove little.
        Assert.All(Enum.GetValues<DecisionKind>(), k => Assert.True(seen.GetValueOrDefault(k) > 0, $"no {k} decision in 1,000 fleets"));
    }

    [Fact]
    public void AStartsOnlyRound_LeavesRunningJobsAlone_AndStartsWhatAFullRoundWouldStartWhereNoSiteIsShort()
    {
        Gen.Int.Sample(seed =>
        {
            var fleet = RandomFleet(seed);
            var starts = new Dispatcher(new PolicyOptions()).Decide(fleet, RoundScope.StartsOnly);

            var jobs = fleet.Jobs.ToDictionary(j => j.Id);
            Assert.All(starts.Decisions, d =>
            {
                Assert.True(d.Kind is DecisionKind.Place or DecisionKind.Resume, $"seed {seed}: a starts-only round decided {d.Kind} for {d.JobId}");
                Assert.True(jobs[d.JobId].Status is JobStatus.Queued or JobStatus.Paused, $"seed {seed}: {d.JobId} was {jobs[d.JobId].Status}");
            });

            // Where no site is short of power nothing relocates or pauses, so both rounds are the same round.
            var full = new Dispatcher(new PolicyOptions()).Decide(fleet);
            if (full.Decisions.All(d => d.Kind is DecisionKind.Place or DecisionKind.Resume))
                Assert.Equal(full.Decisions.Select(d => (d.JobId, d.ToSiteId)), starts.Decisions.Select(d => (d.JobId, d.ToSiteId)));
        }, iter: 1000);
    }

    [Fact]
    public void AStartsOnlyRound_OnTheWaitingJobsAndEachSitesHeldGpus_DecidesAsOnEveryJob()
    {
        var compared = 0;
        Gen.Int.Sample(seed =>
        {
            var fleet = RandomFleet(seed);
            var held = fleet.Jobs.Where(j => j.HoldsGpus).GroupBy(j => j.SiteId!).ToDictionary(g => g.Key, g => g.Sum(j => j.Spec.Gpus));
            var summed = fleet with
            {
                Sites = [.. fleet.Sites.Select(s => s with { HeldGpus = held.GetValueOrDefault(s.Spec.Id) })],
                Jobs = [.. fleet.Jobs.Where(j => j.Status is JobStatus.Queued or JobStatus.Paused)],
            };

            var onEveryJob = new Dispatcher(new PolicyOptions()).Decide(fleet, RoundScope.StartsOnly);
            var onTotals = new Dispatcher(new PolicyOptions()).Decide(summed, RoundScope.StartsOnly);

            Assert.Equal(onEveryJob.Decisions.Select(d => (d.Kind, d.JobId, d.ToSiteId)), onTotals.Decisions.Select(d => (d.Kind, d.JobId, d.ToSiteId)));
            Assert.Equal(onEveryJob.Deferrals, onTotals.Deferrals);
            if (held.Count > 0 && summed.Jobs.Count > 0) Interlocked.Increment(ref compared);
        }, iter: 1000);
        // Most fleets must have both held GPUs and waiting jobs, or the comparison proves little.
        Assert.True(compared > 500, $"only {compared} of 1,000 fleets had held GPUs and waiting jobs");
    }

    [Fact]
    public void AfterAStartsOnlyRound_ARoundOnTheJobsItLeftWaitingAndNewOnes_DecidesAsOnTheNewOnesAlone()
    {
        // What lets a prompt round decide only on new jobs: capacity has only shrunk since a round left the others
        // waiting (by that round's own starts), and every start filter is monotone in a site's load.
        var compared = 0;
        Gen.Int.Sample(seed =>
        {
            var fleet = RandomFleet(seed);
            var rng = new Random(seed);
            var waiting = fleet.Jobs.Where(j => j.Status is JobStatus.Queued or JobStatus.Paused).ToList();
            var isNew = waiting.Where(_ => rng.Next(2) == 0).Select(j => j.Id).ToHashSet();
            var held = fleet.Jobs.Where(j => j.HoldsGpus).GroupBy(j => j.SiteId!).ToDictionary(g => g.Key, g => g.Sum(j => j.Spec.Gpus));
            FleetSnapshot With(IEnumerable<JobState> jobs) => fleet with
            {
                Sites = [.. fleet.Sites.Select(s => s with { HeldGpus = held.GetValueOrDefault(s.Spec.Id) })],
                Jobs = [.. jobs],
            };

            var dispatcher = new Dispatcher(new PolicyOptions());
            var first = dispatcher.Decide(With(waiting.Where(j => !isNew.Contains(j.Id))), RoundScope.StartsOnly);
            foreach (var d in first.Decisions)
                held[d.ToSiteId] = held.GetValueOrDefault(d.ToSiteId) + waiting.Single(j => j.Id == d.JobId).Spec.Gpus;
            var leftWaiting = waiting.Where(j => !isNew.Contains(j.Id) && first.Decisions.All(d => d.JobId != j.Id)).ToList();
            var newOnes = waiting.Where(j => isNew.Contains(j.Id)).ToList();

            var onAll = dispatcher.Decide(With(leftWaiting.Concat(newOnes)), RoundScope.StartsOnly);
            var onNew = dispatcher.Decide(With(newOnes), RoundScope.StartsOnly);

            Assert.Equal(onNew.Decisions.Select(d => (d.Kind, d.JobId, d.ToSiteId)), onAll.Decisions.Select(d => (d.Kind, d.JobId, d.ToSiteId)));
            Assert.Equal(onNew.Deferrals, onAll.Deferrals.Where(d => isNew.Contains(d.JobId)));
            if (leftWaiting.Count > 0 && newOnes.Count > 0) Interlocked.Increment(ref compared);
        }, iter: 1000);
        // Enough fleets must have both jobs left waiting and new ones, or the comparison proves little (about 420 do).
        Assert.True(compared > 300, $"only {compared} of 1,000 fleets had jobs left waiting and new ones");
    }

    [Fact]
    public void ARoundOnTheJobsOfTheSitesInDeficit_AndTheOthersHeldGpus_DecidesAsOnEveryJob()
    {
        // What lets a deficit round decide on the jobs of the sites that fell short alone: with no job waiting, a full
        // round relocates and pauses only jobs at sites in deficit, so the others' jobs matter only as GPUs held.
        var compared = 0;
        Gen.Int.Sample(seed =>
        {
            if (DeficitRoundMatchesFullRound(seed)) Interlocked.Increment(ref compared);
        }, iter: 3000);
        // Enough fleets must relocate or pause jobs while leaving some out of the scoped round, or the comparison proves
        // little (about 130 of 3,000 do: most random sites can import their deficit from the grid).
        Assert.True(compared > 80, $"only {compared} of 3,000 fleets relocated or paused jobs with some jobs left out");
    }

    [Theory]
    // Found by CI: a job relocated into a site in surplus pushed it beyond its battery bridge, and the full round
    // paused a job there that the deficit round never saw (until the relocation-room filter).
    [InlineData(110981392)]
    public void ARoundOnTheJobsOfTheSitesInDeficit_DecidesAsOnEveryJob_ForFleetsFoundBefore(int seed) => DeficitRoundMatchesFullRound(seed);

    /// <summary>Asserts the deficit round on <paramref name="seed"/>'s fleet; true when that comparison had something to compare.</summary>
    private static bool DeficitRoundMatchesFullRound(int seed)
    {
        var everyJob = RandomFleet(seed);
        var rng = new Random(seed);
        // Some sites darker and the others brighter than the generator makes them: sites in deficit beside sites in surplus.
        var fleet = everyJob with
        {
            Sites = [.. everyJob.Sites.Select(s => s with { GreenSupplyMegawatts = s.GreenSupplyMegawatts * (rng.Next(3) == 0 ? 0.1 : 3) })],
            Jobs = [.. everyJob.Jobs.Where(j => j.HoldsGpus)],
        };
        var held = fleet.Jobs.GroupBy(j => j.SiteId!).ToDictionary(g => g.Key, g => g.Sum(j => j.Spec.Gpus));
        bool InDeficit(SiteSnapshot s)
        {
            var view = new SiteView(s, 0);
            return view.HeadroomMegawatts - view.JobPowerMegawatts(held.GetValueOrDefault(s.Spec.Id)) < 0;
        }
        // Every site in deficit, and some others at random: listing a site in surplus changes nothing either.
        var scoped = fleet.Sites.Where(s => InDeficit(s) || rng.Next(3) == 0).Select(s => s.Spec.Id).ToHashSet();
        var onScoped = fleet with
        {
            Sites = [.. fleet.Sites.Select(s => scoped.Contains(s.Spec.Id) ? s : s with { HeldGpus = held.GetValueOrDefault(s.Spec.Id) })],
            Jobs = [.. fleet.Jobs.Where(j => scoped.Contains(j.SiteId!))],
        };

        var full = new Dispatcher(new PolicyOptions()).Decide(fleet);
        var scopedPlan = new Dispatcher(new PolicyOptions()).Decide(onScoped);

        Assert.Equal(full.Decisions.Select(d => (d.Kind, d.JobId, d.FromSiteId, d.ToSiteId, d.Relocation)),
            scopedPlan.Decisions.Select(d => (d.Kind, d.JobId, d.FromSiteId, d.ToSiteId, d.Relocation)));
        return full.Decisions.Count > 0 && onScoped.Jobs.Count < fleet.Jobs.Count;
    }

    [Fact]
    public void ADispatcher_DecidesAsAFreshOne_AfterARoundOnOtherLinks()
    {
        // A dispatcher keeps the region's links between rounds: a round on changed links must not see the old ones.
        Gen.Int.Sample(seed =>
        {
            var fleet = RandomFleet(seed);
            var rng = new Random(seed);
            var fewerLinks = fleet with { Links = [.. fleet.Links.Where(_ => rng.Next(2) == 0)] };
            var otherBandwidth = fleet with { Links = [.. fleet.Links.Select(l => l with { BandwidthGbps = l.BandwidthGbps * 10 })] };
            foreach (var (before, after) in new[] { (fleet, fewerLinks), (fewerLinks, fleet), (fleet, otherBandwidth), (fleet, fleet) })
            {
                var reused = new Dispatcher(new PolicyOptions());
                reused.Decide(before);
                var again = reused.Decide(after);
                var fresh = new Dispatcher(new PolicyOptions()).Decide(after);
                Assert.Equal(fresh.Decisions.Select(d => (d.Kind, d.JobId, d.ToSiteId, d.Relocation)), again.Decisions.Select(d => (d.Kind, d.JobId, d.ToSiteId, d.Relocation)));
                Assert.Equal(fresh.Deferrals, again.Deferrals);
            }
        }, iter: 300);
    }
}
