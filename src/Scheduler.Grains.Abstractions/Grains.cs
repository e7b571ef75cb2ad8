namespace Scheduler.Grains;

using Orleans.Concurrency;
using Scheduler.Core.Lifecycle;
using Scheduler.Core.Model;
using Scheduler.Core.Policy;

// Call graph (acyclic, so non-reentrant grains cannot deadlock):
//   API ─▶ Fleet ─▶ {Site, Plant}     API ─▶ Plant ─▶ Site     API ─▶ Job ─▶ Site     API ─▶ Dispatcher
//   Clock ─▶ Fleet ─▶ Dispatcher ─▶ {Site, Job ─▶ Site}
// A site calls nobody: it returns progress to its dispatcher, which forwards it to jobs.

/// <summary>The fleet's configuration registry (key: "fleet"): sites, plants, links. Drives region ticks.</summary>
public interface IFleetGrain : IGrainWithStringKey
{
    /// <summary>The one fleet grain's key.</summary>
    const string Key = "fleet";

    /// <summary>Creates or updates a site. Throws <see cref="ArgumentException"/> for an invalid spec.</summary>
    Task UpsertSiteAsync(SiteSpec site);

    /// <summary>Creates or updates a plant; its site must exist.</summary>
    Task UpsertPlantAsync(PlantSpec plant);

    Task UpsertLinkAsync(LinkSpec link);

    [ReadOnly]
    Task<FleetConfig> GetConfigAsync();

    /// <summary>Advances every region to <paramref name="now"/>: step sites, then decide.</summary>
    [ReadOnly]
    Task<IReadOnlyList<TickReport>> TickAsync(DateTimeOffset now);
}

/// <summary>One wind or solar plant (key: plant id).</summary>
public interface IPlantGrain : IGrainWithStringKey
{
    Task ConfigureAsync(PlantSpec spec);
    Task<PlantStatus?> GetAsync();

    /// <summary>Validates and records a sample, then tells the plant's site. A rejected sample changes nothing.</summary>
    /// <param name="receivedAt">When the server read the sample (real time): a decision it triggers counts its latency from here.</param>
    Task<SampleVerdict> ReportAsync(GenerationSample sample, DateTimeOffset receivedAt);
}

/// <summary>One data-center site (key: site id): its microgrid and the jobs bound to it.</summary>
public interface ISiteGrain : IGrainWithStringKey
{
    Task ConfigureAsync(SiteSpec spec);
    Task<SiteStatus?> GetAsync();

    /// <summary>Records a plant's latest output; used from the next step on. An output older than the one held is dropped.</summary>
    /// <remarks>
    /// One-way: a plant needs nothing from its site's answer, and waiting for it cost every telemetry sample a second
    /// round trip (a callback, a response message, a suspended plant turn). So the plant accepts a sample once it has
    /// sent the output, not once the site has it; a failure at the site is not reported to the plant (its next sample
    /// replaces a lost output, as it replaces one lost with a site's unwritten state); and since Orleans does not
    /// order messages, a plant's outputs may arrive out of order, which is why the site keeps the newest.
    /// </remarks>
    [OneWay]
    Task UpdatePlantOutputAsync(PlantOutput output);

    /// <summary>Integrates the power balance and job progress from the last step to <paramref name="now"/>.</summary>
    /// <param name="tellSupplyRises">
    /// Whether the site should tell its dispatcher when its supply rises until the next step (prompt dispatch): only
    /// while jobs wait, since a rise can start only a waiting job. A fall into deficit it tells whenever it runs jobs.
    /// </param>
    Task<SiteStepReport> StepAsync(DateTimeOffset now, bool tellSupplyRises = false);

    /// <summary>
    /// Lets go of the releases, then binds the starts, in one turn, and stores them as one change of the site's
    /// journal: a round's decisions at a site cost one write, not one each. A release or start the site refuses is
    /// reported in the results; the others stand.
    /// </summary>
    Task<SiteJobResults> ChangeJobsAsync(SiteJobCommands commands);

    /// <summary>Binds a job (running now, or arriving at a time). Refused if the site knows a newer epoch of the job.</summary>
    Task StartJobAsync(JobAssignment assignment);

    /// <summary>Unbinds a job. Refused (no-op returning false) if <paramref name="epoch"/> is older than the site's.</summary>
    Task<bool> StopJobAsync(string jobId, long epoch);

    /// <summary>
    /// Unbinds a job whose state is to be kept (paused, or relocating away). At a site whose agent runs the job, the
    /// agent is told to checkpoint it, and the result is true: the job's next start waits for that checkpoint. At a
    /// clock site it is <see cref="StopJobAsync"/>, and false. A stale epoch is refused (false).
    /// </summary>
    Task<bool> CheckpointJobAsync(string jobId, long epoch);

    /// <summary>
    /// An agent connects for this site: it becomes the site's executor, replacing any earlier connection. Returns the
    /// session id its reports and command reads must carry. Every current command is issued again (commands are
    /// idempotent), and a job the agent runs that the site does not expect at that epoch is told to stop.
    /// </summary>
    Task<string> AttachAgentAsync(AgentHello hello);

    /// <summary>The agent's connection ended. Its jobs are lost if no agent attaches within the reconnect grace.</summary>
    Task DetachAgentAsync(string session);

    /// <summary>
    /// Records a report of the session's agent; false if it is for an epoch the site no longer runs (stale, ignored).
    /// Throws <see cref="AgentSessionEndedException"/> if a newer connection replaced the session.
    /// </summary>
    Task<bool> ReportAgentAsync(string session, AgentReport report);

    /// <summary>
    /// Commands after <paramref name="afterSequence"/>; waits up to <paramref name="maxWait"/> for one. Throws
    /// <see cref="AgentSessionEndedException"/> once the session is no longer the site's.
    /// </summary>
    [AlwaysInterleave]
    Task<IReadOnlyList<AgentCommand>> WaitForAgentCommandsAsync(string session, long afterSequence, TimeSpan maxWait, CancellationToken cancellationToken = default);
}

/// <summary>One job (key: job id): the durable record and the single source of truth for where it runs.</summary>
public interface IJobGrain : IGrainWithStringKey
{
    /// <summary>Creates the job; idempotent for the same request id. Throws <see cref="JobConflictException"/> otherwise.</summary>
    Task<JobRecord> CreateAsync(JobSpec spec, string requestId, string region);

    Task<JobRecord?> GetAsync();

    /// <summary>
    /// Takes a dispatch decision into the record, not yet written: the caller logs the job as it returns it
    /// (<see cref="JobDecisionTaken.Logged"/>, one write for a whole wave of decisions), tells the sites (the one the job
    /// leaves first, <see cref="JobDecisionTaken.LeavesSiteId"/>, then the one it is bound to), then has the job store
    /// it (<see cref="PersistAsync"/>). Throws <see cref="InvalidJobTransitionException"/> if not allowed.
    /// </summary>
    /// <param name="counted">
    /// For a job that moves or pauses (a new epoch), its site's latest count of the old epoch, credited in the same
    /// write. A count that completes the job is recorded, and the decision is then refused.
    /// </param>
    Task<JobDecisionTaken> ApplyAsync(Decision decision, Scheduler.Core.Accounting.EnergyLedger cost, DateTimeOffset now, EpochProgress? counted = null);

    /// <summary>
    /// Stores the job as a decision log holds it: takes <paramref name="logged"/> if it is newer than the job's own
    /// record (by its last event), then writes the record if a decision it took is not yet written. The dispatcher calls
    /// it for each decision once the sites were told, and for each job of its log when it activates, so a crash between
    /// the log and the job's own write loses nothing.
    /// </summary>
    Task PersistAsync(LoggedJob logged);

    /// <summary>The site the job left is checkpointing it (<see cref="ReleaseOutcome.Checkpointing"/>): its next start waits for that checkpoint.</summary>
    Task<JobRecord> AwaitCheckpointAsync(long epoch, DateTimeOffset now);

    /// <summary>Credits work and energy from a site step (ignored if from an older epoch).</summary>
    Task<JobRecord> RecordProgressAsync(JobProgress progress, DateTimeOffset now);

    /// <summary>Marks the checkpoint transfer as landed.</summary>
    Task<JobRecord> CompleteTransferAsync(DateTimeOffset now);

    /// <summary>
    /// A site agent wrote the job's checkpoint (an empty reference: the checkpoint failed). The job's next start
    /// restores it; a start waiting for it is released.
    /// </summary>
    Task<JobRecord> RecordCheckpointAsync(string siteId, string? reference, long bytes, long epoch, DateTimeOffset now);

    /// <summary>
    /// A site can no longer run the job's instance at <see cref="LostJob.Epoch"/>: if that is the job's current
    /// placement, the job is queued again (or fails, if its process failed); a checkpoint it was waiting for is given up.
    /// </summary>
    Task<JobRecord> RecordLostAsync(string siteId, LostJob lost, DateTimeOffset now);

    /// <summary>
    /// Records that the dispatcher left the job waiting, and why (a "deferred" event). A repeat of the latest reason
    /// records nothing; only a queued or paused job is deferred.
    /// </summary>
    Task<JobRecord> RecordDeferralAsync(string reason, string detail, DateTimeOffset now);

    /// <summary>Cancels the job and releases its site.</summary>
    Task<JobRecord> CancelAsync(DateTimeOffset now, string reason);

    /// <summary>Events after <paramref name="afterSequence"/>; waits up to <paramref name="maxWait"/> for one to happen.</summary>
    [AlwaysInterleave]
    Task<IReadOnlyList<JobEvent>> WaitForEventsAsync(long afterSequence, TimeSpan maxWait, CancellationToken cancellationToken = default);
}

/// <summary>One dispatch region (key: region id): tracks its jobs, runs the policy each tick.</summary>
public interface IDispatcherGrain : IGrainWithStringKey
{
    /// <summary>
    /// Tells the dispatcher of a job's new state (created, cancelled); completes once the job is in the region's stored
    /// catalogue. Interleaves with the tick, so a create does not wait for a dispatch round: it only adds a job the
    /// dispatcher does not know or ends one, and concurrent calls share catalogue writes (group commit).
    /// </summary>
    [AlwaysInterleave]
    Task TrackAsync(JobRecord job);

    /// <summary>
    /// Gives the job's record the dispatcher's latest count of its work (records get counts only every
    /// <c>ProgressForwardInterval</c>); a job that holds no GPUs has none. Before a cancel, so that the work up to it is
    /// the job's. Interleaves with the tick, as <see cref="TrackAsync"/>.
    /// </summary>
    [AlwaysInterleave]
    Task ForwardCountAsync(string jobId);

    Task<TickReport> TickAsync(RegionTick tick);

    /// <summary>
    /// A site's green supply rose notably since it last told the dispatcher: waiting jobs may fit now, so a round of
    /// starts runs at once instead of at the next tick (prompt dispatch). One-way: the site never waits for a round.
    /// </summary>
    [AlwaysInterleave, OneWay]
    Task SupplyRoseAsync(SiteSupplyChange rise);

    /// <summary>
    /// A site's green supply fell notably, below its load, since it last told the dispatcher: a round over that site's
    /// jobs relocates or pauses them at once (a deficit round) instead of at the next tick. One-way, as a rise.
    /// </summary>
    [AlwaysInterleave, OneWay]
    Task SupplyFellAsync(SiteSupplyChange fall);

    /// <summary>Switches the region to a named policy (see PolicyOptions.PolicyNames); unknown names are refused.</summary>
    Task SetPolicyAsync(string name);

    // The reads below interleave with everything, the tick included: they run without awaiting, so they see the
    // dispatcher between two of the tick's steps, and a long tick (thousands of placements) does not hold them up.
    [AlwaysInterleave]
    Task<string> GetPolicyAsync();

    [AlwaysInterleave]
    Task<JobPage> ListJobsAsync(JobQuery query);

    /// <summary>Every job's summary (for energy reports).</summary>
    [AlwaysInterleave]
    Task<IReadOnlyList<JobSummary>> GetSummariesAsync();

    [AlwaysInterleave]
    Task<TickReport?> GetLastTickAsync();
}

/// <summary>A create with a request id that names a different job, or a job id that exists with another request.</summary>
[GenerateSerializer]
public sealed class JobConflictException(string message) : Exception(message);

/// <summary>A command that carries an older epoch than the site has already seen for the job.</summary>
[GenerateSerializer]
public sealed class StaleEpochException(string message) : Exception(message);

/// <summary>An agent session a newer connection for the same site replaced, or that ended.</summary>
[GenerateSerializer]
public sealed class AgentSessionEndedException(string message) : Exception(message);

/// <summary>A job event its current state does not allow (the wire form of the core's InvalidJobTransitionException).</summary>
[GenerateSerializer]
public sealed class JobTransitionException(string message) : Exception(message);
