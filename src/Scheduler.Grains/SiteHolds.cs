namespace Scheduler.Grains;

using System.Runtime.InteropServices;
using Scheduler.Core.Lifecycle;

/// <summary>
/// Per site, the live jobs bound there (running, or arriving) and the GPUs they hold: kept as the dispatcher tracks
/// each job's record. A deficit round and the reconcile take a site's jobs from here; finding them among all the
/// region's live jobs was 1.2–2.1 ms of each deficit round at 10,000 jobs (docs/performance.md).
/// </summary>
internal sealed class SiteHolds
{
    private static readonly IReadOnlySet<string> NoJobs = new HashSet<string>();

    private readonly Dictionary<string, Hold> _sites = new(StringComparer.Ordinal);

    /// <summary>Takes a job's change: <paramref name="before"/> as last tracked (null if new), <paramref name="after"/> as it is now.</summary>
    public void Track(JobState? before, JobState after)
    {
        // Still bound where it was (a count forwarded, say): nothing changes here.
        if (before is { HoldsGpus: true } && after.HoldsGpus && before.SiteId == after.SiteId) return;
        if (before is { HoldsGpus: true }) _sites[before.SiteId!].Release(before);
        if (after.HoldsGpus)
        {
            ref var hold = ref CollectionsMarshal.GetValueRefOrAddDefault(_sites, after.SiteId!, out _);
            (hold ??= new Hold()).Bind(after);
        }
    }

    /// <summary>The ids of the jobs bound to a site: the set itself, which changes as jobs are tracked (copy it to keep it).</summary>
    public IReadOnlySet<string> JobsAt(string siteId) => _sites.TryGetValue(siteId, out var hold) ? hold.Jobs : NoJobs;

    /// <summary>The GPUs the jobs bound to a site hold there.</summary>
    public int GpusAt(string siteId) => _sites.TryGetValue(siteId, out var hold) ? hold.Gpus : 0;

    private sealed class Hold
    {
        public HashSet<string> Jobs { get; } = new(StringComparer.Ordinal);

        public int Gpus { get; private set; }

        public void Bind(JobState job)
        {
            if (Jobs.Add(job.Id)) Gpus += job.Spec.Gpus;
        }

        public void Release(JobState job)
        {
            if (Jobs.Remove(job.Id)) Gpus -= job.Spec.Gpus;
        }
    }
}
