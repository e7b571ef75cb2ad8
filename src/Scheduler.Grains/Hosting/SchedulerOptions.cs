namespace Scheduler.Grains.Hosting;

using Microsoft.Extensions.Options;

/// <summary>Runtime settings of the scheduler's grains. Section <c>Scheduler</c>.</summary>
public sealed class SchedulerOptions
{
    public const string Section = "Scheduler";

    /// <summary>Real time between fleet ticks (step every site, then decide). Default: 1 second.</summary>
    public TimeSpan TickInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Whether the silo ticks the fleet on its own. Replay turns this off and ticks explicitly. Default: true.</summary>
    public bool AutoTick { get; set; } = true;

    /// <summary>
    /// Prompt dispatch: between ticks, a new job, GPUs freed by a cancel, or a site whose green supply rose by
    /// <see cref="SupplyChangeFraction"/> start a round at once that only starts waiting jobs; a site whose supply fell
    /// by as much, below its load, starts a round over that site's jobs that relocates or pauses them (a deficit round).
    /// The tick still accounts progress and runs a full round. Replay turns it off: there, rounds happen only on its
    /// ticks. Default: true.
    /// </summary>
    public bool PromptDispatch { get; set; } = true;

    /// <summary>
    /// How far a site's green supply must rise above the lowest it has been since it last told its dispatcher (or fall
    /// below the highest), as a fraction of its plants' nameplate, before it tells it again: a rise only while jobs wait
    /// in its region, a fall only into deficit (below the site's load) while it runs jobs. Smaller is quicker but calls
    /// the dispatcher more often. Default: 0.02.
    /// </summary>
    public double SupplyChangeFraction { get; set; } = 0.02;

    /// <summary>
    /// How long, at most, a round that a sample triggered (a deficit round, or a round of starts on a supply rise) holds
    /// this silo's telemetry ingest while it decides and applies (real time, from the hold's start): decisions go
    /// before more samples (<see cref="TelemetryHold"/>). Rounds take a few milliseconds; the limit keeps a slow one
    /// from holding telemetry up. 0: never held. Default: 50 ms.
    /// </summary>
    public TimeSpan TelemetryHoldLimit { get; set; } = TimeSpan.FromMilliseconds(50);

    /// <summary>A plant whose last sample is older than this (in scheduler time) counts as 0 MW. Default: 2 minutes.</summary>
    public TimeSpan PlantStaleAfter { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>Outside temperature assumed when no plant reports one, °C. Default: 15.</summary>
    public double DefaultOutsideCelsius { get; set; } = 15;

    /// <summary>
    /// Progress of a running job, and a site's step state, are written to storage at least this often (scheduler time),
    /// each job and site at its own point of the interval; state changes are always written at once. After a crash, at
    /// most this much progress is redone. Default: 5 minutes.
    /// </summary>
    public TimeSpan ProgressPersistInterval { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// A running job's record gets its site's count of its progress at least this often (scheduler time), each job at
    /// its own point of the interval so the forwards spread over the ticks; the dispatcher's own copy of the job, which
    /// the policy reads, gets it every tick. A completion, and the count of a job that is about to move, pause, be lost
    /// or be cancelled (CancelJob), go to the record at once. Reading a job (GetJob, ListJobs) shows its progress at most this old.
    /// 0: every tick. Default: 1 minute. Each forward replaces the job's record, state and summary, which then outlive
    /// a young collection: at 10 s the forwards of 10,000 jobs were most of what those collections kept, and a
    /// decision that met one waited 20–28 ms (docs/performance.md, session 16).
    /// </summary>
    public TimeSpan ProgressForwardInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>History entries kept per job (oldest dropped first). Default: 500.</summary>
    public int JobHistoryLimit { get; set; } = 500;

    /// <summary>
    /// Jobs per stored page of a region's job catalogue: adding a job writes one page of at most this many summaries.
    /// A region keeps the page size it first stored with (pages are positional), so a change applies to new regions.
    /// Default: 32 (a page of 32 summaries is about 13 KB; concurrent creates share its writes).
    /// </summary>
    public int JobCatalogPageSize { get; set; } = 32;

    /// <summary>
    /// Scored candidate sites a decision's span lists as events, best first (the chosen site first of all), and site
    /// ids each filter's event of rejected sites names (it counts them all). Default: 10.
    /// </summary>
    public int TracedCandidates { get; set; } = 10;

    /// <summary>
    /// How long (scheduler time) a site whose agent disconnected keeps its jobs, waiting for the agent to reconnect;
    /// after it, they are queued again and restored from their latest checkpoint elsewhere. Default: 2 minutes.
    /// </summary>
    public TimeSpan AgentReconnectGrace { get; set; } = TimeSpan.FromMinutes(2);
}

internal sealed class SchedulerOptionsValidator : IValidateOptions<SchedulerOptions>
{
    public ValidateOptionsResult Validate(string? name, SchedulerOptions o)
    {
        var errors = new List<string>();
        if (o.TickInterval <= TimeSpan.Zero) errors.Add($"Scheduler:TickInterval must be > 0, was {o.TickInterval}");
        if (o.PlantStaleAfter <= TimeSpan.Zero) errors.Add($"Scheduler:PlantStaleAfter must be > 0, was {o.PlantStaleAfter}");
        if (!double.IsFinite(o.DefaultOutsideCelsius)) errors.Add("Scheduler:DefaultOutsideCelsius must be finite");
        if (o.ProgressPersistInterval < TimeSpan.Zero) errors.Add($"Scheduler:ProgressPersistInterval must be >= 0, was {o.ProgressPersistInterval}");
        if (o.ProgressForwardInterval < TimeSpan.Zero) errors.Add($"Scheduler:ProgressForwardInterval must be >= 0, was {o.ProgressForwardInterval}");
        if (o.TelemetryHoldLimit < TimeSpan.Zero || o.TelemetryHoldLimit > TimeSpan.FromSeconds(1))
            errors.Add($"Scheduler:TelemetryHoldLimit must be within [0, 1 s], was {o.TelemetryHoldLimit}");
        if (o.JobHistoryLimit < 10) errors.Add($"Scheduler:JobHistoryLimit must be >= 10, was {o.JobHistoryLimit}");
        if (o.AgentReconnectGrace < TimeSpan.Zero) errors.Add($"Scheduler:AgentReconnectGrace must be >= 0, was {o.AgentReconnectGrace}");
        if (!(o.SupplyChangeFraction is > 0 and <= 1)) errors.Add($"Scheduler:SupplyChangeFraction must be within (0, 1], was {o.SupplyChangeFraction}");
        if (o.TracedCandidates is < 1 or > 1_000) errors.Add($"Scheduler:TracedCandidates must be within [1, 1000], was {o.TracedCandidates}");
        if (o.JobCatalogPageSize is < 1 or > 100_000) errors.Add($"Scheduler:JobCatalogPageSize must be within [1, 100000], was {o.JobCatalogPageSize}");
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
