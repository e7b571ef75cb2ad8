namespace Scheduler.Core.Policy;

using Scheduler.Core.Lifecycle;

/// <summary>
/// One (job, site) pair under evaluation, with the figures every stage needs computed once. It captures the site's
/// free GPUs and load at evaluation time, so stages never read the live view: an explanation rebuilt later, after the
/// round committed other decisions, gives the same reasons.
/// </summary>
public readonly struct Candidate
{
    public Candidate(JobState job, SiteView site, SiteView? from, DateTimeOffset now, RelocationCost? move, double sourceGreenFraction, double horizonHours)
        : this(job, site, from, now, move, sourceGreenFraction, horizonHours, site.FreeGpus, site.LoadMegawatts) { }

    internal Candidate(JobState job, SiteView site, SiteView? from, DateTimeOffset now, RelocationCost? move, double sourceGreenFraction,
        double horizonHours, int freeGpus, double loadMegawatts)
    {
        Job = job;
        Site = site;
        From = from;
        Now = now;
        Move = move;
        SourceGreenFraction = sourceGreenFraction;
        HorizonHours = horizonHours;
        FreeGpus = freeGpus;
        LoadMegawatts = loadMegawatts;
        JobPowerMegawatts = site.JobPowerMegawatts(job.Spec.Gpus);
    }

    /// <summary>The site's free GPUs when the candidate was evaluated.</summary>
    public int FreeGpus { get; }

    /// <summary>The site's facility load when the candidate was evaluated, MW.</summary>
    public double LoadMegawatts { get; }

    /// <summary>The site's green supply minus <see cref="LoadMegawatts"/>, MW.</summary>
    public double HeadroomMegawatts => Site.GreenSupplyMegawatts - LoadMegawatts;

    public JobState Job { get; }

    /// <summary>The candidate site.</summary>
    public SiteView Site { get; }

    /// <summary>The site the job is bound to now (running or checkpointed there); null for a queued job.</summary>
    public SiteView? From { get; }

    public DateTimeOffset Now { get; }

    /// <summary>Cost of moving from <see cref="From"/> to <see cref="Site"/>; null when the job does not change site
    /// or no link joins the two sites.</summary>
    public RelocationCost? Move { get; }

    /// <summary>True when the job would change site (and need <see cref="Move"/>).</summary>
    public bool ChangesSite => From is not null && !ReferenceEquals(From, Site);

    /// <summary>Share of the job's power that is green where it is now (0 for a queued job).</summary>
    public double SourceGreenFraction { get; }

    /// <summary>Hours over which green gain is counted: min(remaining run time, gain horizon).</summary>
    public double HorizonHours { get; }

    /// <summary>The job's facility power at the candidate site, MW.</summary>
    public double JobPowerMegawatts { get; }

    /// <summary>Share of the job's power the candidate site's surplus would cover now, 0..1.</summary>
    public double GreenFractionNow => GreenFraction(HeadroomMegawatts);

    /// <summary>Share of the job's power the candidate's forecast surplus would cover over the horizon, 0..1.</summary>
    public double GreenFractionForecast =>
        GreenFraction(Site.MeanForecastSupplyMegawatts(Now, HorizonHours) - LoadMegawatts);

    /// <summary>Expected green energy gained by running here rather than where the job is, MWh.</summary>
    public double ExpectedGreenGainMegawattHours =>
        (GreenFractionForecast - SourceGreenFraction) * JobPowerMegawatts * HorizonHours;

    private double GreenFraction(double headroomMegawatts) =>
        JobPowerMegawatts <= 0 ? 1 : Math.Clamp(headroomMegawatts / JobPowerMegawatts, 0, 1);
}
