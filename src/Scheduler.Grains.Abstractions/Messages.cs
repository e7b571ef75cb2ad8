namespace Scheduler.Grains;

using Scheduler.Core.Accounting;
using Scheduler.Core.Lifecycle;
using Scheduler.Core.Model;
using Scheduler.Core.Policy;

// Core types (JobSpec, JobState, SiteSpec, PlantSpec, EnergyLedger, Decision …) cross the wire through Orleans'
// System.Text.Json codec, registered for the Scheduler.Core namespace (see SchedulerSerialization). Types owned
// here use generated serializers.

/// <summary>One generation sample from a plant, stamped with event time.</summary>
[GenerateSerializer, Immutable]
public sealed record GenerationSample(
    [property: Id(0)] DateTimeOffset At,
    [property: Id(1)] double Megawatts,
    [property: Id(2)] double? OutsideCelsius,
    [property: Id(3)] IReadOnlyList<ForecastPoint> Forecast);

/// <summary>What a plant grain did with a sample.</summary>
[GenerateSerializer, Immutable]
public sealed record SampleVerdict([property: Id(0)] bool Accepted, [property: Id(1)] string? Field, [property: Id(2)] string? Reason)
{
    public static SampleVerdict Ok { get; } = new(true, null, null);
}

/// <summary>A plant's latest output as its site sees it.</summary>
[GenerateSerializer, Immutable]
public sealed record PlantOutput(
    [property: Id(0)] string PlantId,
    [property: Id(1)] DateTimeOffset At,
    [property: Id(2)] double Megawatts,
    [property: Id(3)] double NameplateMegawatts,
    [property: Id(4)] double GreenPriceCnyPerKilowattHour,
    [property: Id(5)] double? OutsideCelsius,
    [property: Id(6)] IReadOnlyList<ForecastPoint> Forecast,
    [property: Id(7)] string? TraceParent = null,
    [property: Id(8)] DateTimeOffset? ReceivedAt = null);

/// <summary>A site's green supply after the sample that raised or lowered it, MW; <c>ReceivedAt</c> is when that sample arrived (real time).</summary>
[GenerateSerializer, Immutable]
public sealed record SiteSupplyChange(
    [property: Id(0)] string SiteId,
    [property: Id(1)] double GreenSupplyMegawatts,
    [property: Id(2)] DateTimeOffset ReceivedAt);

/// <summary>A plant's configuration and latest telemetry.</summary>
[GenerateSerializer, Immutable]
public sealed record PlantStatus(
    [property: Id(0)] PlantSpec Spec,
    [property: Id(1)] DateTimeOffset? LastSampleAt,
    [property: Id(2)] double LastMegawatts,
    [property: Id(3)] long Accepted,
    [property: Id(4)] long Rejected);

/// <summary>A job bound to a site: running, or arriving once its checkpoint lands.</summary>
/// <param name="EpochLedger">
/// The job's energy at the site in its current epoch (with <c>Job.RemainingGpuHours</c>, the site's count) when the
/// assignment was made: a site keeps its later counts apart from the assignment (<c>SiteGrainState.Counts</c>), so an
/// assignment in a site's status is behind them. The step reports carry the latest counts. (Sites stored before
/// session 22 folded their counts into the assignments at each write.)
/// </param>
[GenerateSerializer, Immutable]
public sealed record JobAssignment(
    [property: Id(0)] JobState Job,
    [property: Id(1)] DateTimeOffset? ArrivesAt,
    [property: Id(2)] EnergyLedger EpochLedger = default)
{
    /// <summary>The count of the job's epoch the assignment holds.</summary>
    public EpochProgress Counted => new(Job.Epoch, Job.RemainingGpuHours, EpochLedger);
}

/// <summary>A job to let go at a site, at the job's new epoch; <paramref name="KeepState"/>: paused or moving away (an agent checkpoints it).</summary>
[GenerateSerializer, Immutable]
public sealed record JobRelease(
    [property: Id(0)] string JobId,
    [property: Id(1)] long Epoch,
    [property: Id(2)] bool KeepState);

/// <summary>
/// What one site is told of a round's decisions at once: jobs to let go, then jobs to bind. Arrays: Orleans has a codec
/// for arrays, not for the compiler's types behind a collection expression.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record SiteJobCommands(
    [property: Id(0)] JobRelease[] Releases,
    [property: Id(1)] JobAssignment[] Starts);

/// <summary>How a site took a release.</summary>
public enum ReleaseOutcome
{
    /// <summary>Refused: the site knows a newer epoch of the job. Nothing changed.</summary>
    Stale,
    /// <summary>Let go.</summary>
    Released,
    /// <summary>Let go, and the site's agent is checkpointing the job: its next start waits for that checkpoint.</summary>
    Checkpointing,
}

/// <summary>What a site did with <see cref="SiteJobCommands"/>, in the commands' order.</summary>
/// <param name="StartRefusals">Per start, why the site refused it (a newer epoch known, or too few free GPUs); null: bound.</param>
[GenerateSerializer, Immutable]
public sealed record SiteJobResults(
    [property: Id(0)] ReleaseOutcome[] Releases,
    [property: Id(1)] string?[] StartRefusals);

/// <summary>
/// A decision as the job took it, not yet written: its record, the site the job must now leave (if any), and the job
/// as its dispatcher logs it (then stores it with <see cref="IJobGrain.PersistAsync"/>).
/// </summary>
[GenerateSerializer, Immutable]
public sealed record JobDecisionTaken(
    [property: Id(0)] JobRecord Record,
    [property: Id(1)] string? LeavesSiteId,
    [property: Id(2)] LoggedJob Logged);

/// <summary>
/// A job as its dispatcher's decision log holds it: its record, with only the events since the job last wrote it (the
/// stored record has the ones before), and what the record has credited of its current epoch (<see cref="EpochCredit"/>).
/// </summary>
[GenerateSerializer, Immutable]
public sealed record LoggedJob(
    [property: Id(0)] JobRecord Record,
    [property: Id(1)] EpochCredit? Credit);

/// <summary>A job's work and energy so far in its epoch, as its site counts them after a step (cumulative: see <see cref="EpochProgress"/>).</summary>
/// <remarks>A value: a site reports one per running job per step, and an object each was a tenth of what the scheduler allocated at scale.</remarks>
[GenerateSerializer, Immutable]
public readonly record struct JobProgress(
    [property: Id(0)] string JobId,
    [property: Id(1)] EpochProgress Counted);

/// <summary>A site's live state: the last power balance and what runs there.</summary>
[GenerateSerializer, Immutable]
public sealed record SiteStatus(
    [property: Id(0)] SiteSpec Spec,
    [property: Id(1)] DateTimeOffset? SteppedAt,
    [property: Id(2)] double GreenSupplyMegawatts,
    [property: Id(3)] double LoadMegawatts,
    [property: Id(4)] double BatteryMegawatts,
    [property: Id(5)] double StateOfChargeMegawattHours,
    [property: Id(6)] double GridImportMegawatts,
    [property: Id(7)] double CurtailmentMegawatts,
    [property: Id(8)] double ShortfallMegawatts,
    [property: Id(9)] double OutsideCelsius,
    [property: Id(10)] IReadOnlyList<JobAssignment> Jobs,
    [property: Id(11)] EnergyLedger Ledger,
    [property: Id(12)] IReadOnlyList<PlantOutput> Plants,
    [property: Id(13)] IReadOnlyList<ForecastPoint> Forecast,
    [property: Id(14)] TimeSpan PlantStaleAfter,
    [property: Id(15)] double SteppedGreenMegawatts = 0,
    [property: Id(16)] SiteExecutorStatus? Executor = null)
{
    /// <summary>Whether a plant's output is too old to count.</summary>
    public bool IsStale(PlantOutput output, DateTimeOffset now) => now - output.At > PlantStaleAfter;

    /// <summary>Power sent to the public grid: always 0 by construction.</summary>
    public double ExportMegawatts => 0;

    /// <summary>Positive: surplus; negative: deficit (MW).</summary>
    public double SurplusMegawatts => GreenSupplyMegawatts - LoadMegawatts;

    public int UsedGpus => Jobs.Sum(j => j.Job.Spec.Gpus);
}

/// <summary>
/// The outcome of a site step: its status, the work each job did, the jobs whose transfer landed, and the jobs the
/// site can no longer run.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record SiteStepReport(
    [property: Id(0)] SiteStatus Status,
    [property: Id(1)] IReadOnlyList<JobProgress> Progress,
    [property: Id(2)] IReadOnlyList<string> Landed,
    [property: Id(3)] IReadOnlyList<LostJob>? Lost = null);

/// <summary>One entry of a job's history, as WatchJob streams it.</summary>
[GenerateSerializer, Immutable]
public sealed record JobEvent(
    [property: Id(0)] long Sequence,
    [property: Id(1)] DateTimeOffset At,
    [property: Id(2)] JobStatus Status,
    [property: Id(3)] string Kind,
    [property: Id(4)] string? FromSiteId,
    [property: Id(5)] string? ToSiteId,
    [property: Id(6)] string Reason,
    [property: Id(7)] string Detail,
    [property: Id(8)] string? TraceId = null);

/// <summary>A job's durable record.</summary>
[GenerateSerializer, Immutable]
public sealed record JobRecord(
    [property: Id(0)] JobState State,
    [property: Id(1)] string RequestId,
    [property: Id(2)] string Region,
    [property: Id(3)] DateTimeOffset CreatedAt,
    [property: Id(4)] EnergyLedger Ledger,
    [property: Id(5)] IReadOnlyList<JobEvent> History,
    [property: Id(6)] string? TraceParent = null);

/// <summary>One line of a region's job catalogue (every job, terminal ones too): the record without its history.</summary>
[GenerateSerializer, Immutable]
public sealed record JobSummary(
    [property: Id(0)] JobState State,
    [property: Id(1)] string Region,
    [property: Id(2)] DateTimeOffset CreatedAt,
    [property: Id(3)] EnergyLedger Ledger,
    [property: Id(4)] string? TraceParent = null);

/// <summary>Filters and paging for listing jobs.</summary>
[GenerateSerializer, Immutable]
public sealed record JobQuery(
    [property: Id(0)] string? TenantId,
    [property: Id(1)] JobStatus? Status,
    [property: Id(2)] string? SiteId,
    [property: Id(3)] int PageSize,
    [property: Id(4)] int Offset);

[GenerateSerializer, Immutable]
public sealed record JobPage([property: Id(0)] IReadOnlyList<JobSummary> Jobs, [property: Id(1)] int? NextOffset, [property: Id(2)] int Total);

/// <summary>What a region is told on each tick: the time and its configuration.</summary>
[GenerateSerializer, Immutable]
public sealed record RegionTick(
    [property: Id(0)] DateTimeOffset Now,
    [property: Id(1)] IReadOnlyList<string> SiteIds,
    [property: Id(2)] IReadOnlyList<LinkSpec> Links);

/// <summary>What a region tick did, and its sites after it (their last step, and the jobs bound until the next tick).</summary>
[GenerateSerializer, Immutable]
public sealed record TickReport(
    [property: Id(0)] DateTimeOffset Now,
    [property: Id(1)] IReadOnlyList<Decision> Decisions,
    [property: Id(2)] int ActiveJobs,
    [property: Id(3)] IReadOnlyList<SiteStatus> Sites);

/// <summary>The fleet's configuration.</summary>
[GenerateSerializer, Immutable]
public sealed record FleetConfig(
    [property: Id(0)] IReadOnlyList<SiteSpec> Sites,
    [property: Id(1)] IReadOnlyList<PlantSpec> Plants,
    [property: Id(2)] IReadOnlyList<LinkSpec> Links);

/// <summary>What a site's scheduler tells its agent (see docs/agents.md): start, checkpoint or stop one job.</summary>
public enum AgentCommandKind
{
    /// <summary>Run the job's workload (restoring <see cref="AgentCommand.RestoreFrom"/> first, if set).</summary>
    Start,
    /// <summary>Ask the process to write its checkpoint and exit (SIGTERM, then a grace period).</summary>
    Checkpoint,
    /// <summary>End the process; its state is not needed (cancelled, or bound elsewhere).</summary>
    Stop,
}

/// <summary>
/// One command for a site's agent. Commands are idempotent and carry the job's placement epoch: an agent refuses one
/// older than an epoch it has seen for the job. <see cref="Sequence"/> orders the commands of one site.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record AgentCommand(
    [property: Id(0)] long Sequence,
    [property: Id(1)] AgentCommandKind Kind,
    [property: Id(2)] string JobId,
    [property: Id(3)] long Epoch,
    [property: Id(4)] Scheduler.Core.Execution.WorkloadSpec? Workload,
    [property: Id(5)] string? RestoreFrom,
    [property: Id(6)] string Reason);

/// <summary>What an agent reports about one job.</summary>
public enum AgentReportKind { Started, Progress, Checkpointed, Exited }

/// <summary>One report from a site's agent, for the job's instance at <see cref="Epoch"/>.</summary>
/// <param name="WorkDone">Progress: work done so far in the workload's units (cumulative over restores).</param>
/// <param name="WorkTotal">Progress: the workload's total work, same units.</param>
/// <param name="PowerKilowatts">Progress: the job's IT power, measured or estimated, kW.</param>
/// <param name="ExitCode">Exited: the process's exit code.</param>
/// <param name="CheckpointReference">Checkpointed: where the checkpoint is (opaque to the scheduler).</param>
[GenerateSerializer, Immutable]
public sealed record AgentReport(
    [property: Id(0)] AgentReportKind Kind,
    [property: Id(1)] string JobId,
    [property: Id(2)] long Epoch,
    [property: Id(3)] double WorkDone = 0,
    [property: Id(4)] double WorkTotal = 0,
    [property: Id(5)] double? PowerKilowatts = null,
    [property: Id(6)] int? ExitCode = null,
    [property: Id(7)] string? Reason = null,
    [property: Id(8)] string? CheckpointReference = null,
    [property: Id(9)] long CheckpointBytes = 0);

/// <summary>A job instance an agent has running when it (re)connects.</summary>
[GenerateSerializer, Immutable]
public sealed record AgentRunningJob([property: Id(0)] string JobId, [property: Id(1)] long Epoch);

/// <summary>An agent's first message on a connection.</summary>
[GenerateSerializer, Immutable]
public sealed record AgentHello([property: Id(0)] string AgentId, [property: Id(1)] IReadOnlyList<AgentRunningJob> Running);

/// <summary>One job as the site's agent last reported it.</summary>
[GenerateSerializer, Immutable]
public sealed record AgentJobStatus(
    [property: Id(0)] string JobId,
    [property: Id(1)] long Epoch,
    [property: Id(2)] string Phase,
    [property: Id(3)] double WorkDone,
    [property: Id(4)] double WorkTotal,
    [property: Id(5)] double? PowerKilowatts);

/// <summary>How a site runs its jobs: the built-in clock executor, or an agent (attached or not).</summary>
[GenerateSerializer, Immutable]
public sealed record SiteExecutorStatus(
    [property: Id(0)] string Kind,
    [property: Id(1)] bool Connected,
    [property: Id(2)] string? AgentId,
    [property: Id(3)] DateTimeOffset? DetachedAt,
    [property: Id(4)] IReadOnlyList<AgentJobStatus> Jobs)
{
    public const string Clock = "clock", Agent = "agent";

    /// <summary>Whether the site can take jobs: a clock site always, an agent site while its agent is attached.</summary>
    public bool Available => Kind == Clock || Connected;
}

/// <summary>A job its site can no longer run: its agent went away (past the grace), or its process failed.</summary>
[GenerateSerializer, Immutable]
public sealed record LostJob(
    [property: Id(0)] string JobId,
    [property: Id(1)] long Epoch,
    [property: Id(2)] string Reason,
    [property: Id(3)] bool Failed);
