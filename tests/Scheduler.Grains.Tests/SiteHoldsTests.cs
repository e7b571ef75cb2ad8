namespace Scheduler.Grains.Tests;

using CsCheck;
using Scheduler.Core.Lifecycle;
using Scheduler.Core.Model;

public class SiteHoldsTests
{
    private static readonly string[] Sites = ["a", "b", "c"];

    /// <summary>
    /// Random changes of a few jobs (any status, any site, jobs ending and ids coming back), tracked as the dispatcher
    /// tracks them: each site's jobs and GPUs are always those of the live jobs bound there, counted afresh.
    /// </summary>
    [Fact]
    public void ASitesJobsAndGpus_AreAlwaysThoseOfTheJobsBoundThere()
    {
        Gen.Select(Gen.Int[0, 5], Gen.Enum<JobStatus>(), Gen.Int[0, Sites.Length - 1]).Array[1, 300].Sample(changes =>
        {
            var holds = new SiteHolds();
            var live = new Dictionary<string, JobState>();
            foreach (var (n, status, site) in changes)
            {
                var id = $"j{n}";
                // Each id has its own GPU count, so a GPU sum that counts a job twice or forgets one is off.
                var spec = new JobSpec(id, "t", 1 + n, 10, DateTimeOffset.UnixEpoch, DateTimeOffset.UnixEpoch.AddDays(1), true, true, 1, []);
                var after = new JobState(spec, status, status == JobStatus.Queued ? null : Sites[site], 10, null, null, 1);
                holds.Track(live.GetValueOrDefault(id), after);
                if (after.IsTerminal) live.Remove(id);
                else live[id] = after;

                foreach (var s in Sites)
                {
                    var bound = live.Values.Where(j => j.HoldsGpus && j.SiteId == s).ToList();
                    Assert.Equal(bound.Select(j => j.Id).ToHashSet(), holds.JobsAt(s).ToHashSet());
                    Assert.Equal(bound.Sum(j => j.Spec.Gpus), holds.GpusAt(s));
                }
            }
        });
    }
}
