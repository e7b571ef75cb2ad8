namespace Scheduler.Grains;

using System.Diagnostics;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Scheduler.Core.Accounting;
using Scheduler.Core.Lifecycle;
using Scheduler.Core.Policy;
using Scheduler.Grains.Diagnostics;
using Scheduler.Grains.Hosting;

[GenerateSerializer]
public sealed class DispatcherGrainState
{
    /// <summary>
    /// The whole catalogue, as stored before it moved to pages (<see cref="JobCatalog"/>). Read once on activation,
    /// moved to pages and emptied; kept so that data stored by an older version still loads.
    /// </summary>
    [Id(0)] public List<JobSummary> Catalog { get; set; } = [];

    /// <summary>The named policy this region runs (<see cref="PolicyOptions.PolicyNames"/>).</summary>
    [Id(1)] public string Policy { get; set; } = PolicyOptions.SchedulerPolicy;

    /// <summary>Jobs per catalogue page this region stores with; 0 until first set from the options.</summary>
    [Id(2)] public int CatalogPageSize { get; set; }
}

/// <summary>
/// One region's dispatcher. Each tick: step every site, take their counts of their jobs' progress (kept beside its copy
/// of each job; into the job records every <c>ProgressForwardInterval</c>), reconcile sites with the job records,
/// then run the pure policy on a fresh snapshot and apply its decisions through the job grains. Between ticks
/// (prompt dispatch), a new job, a site's supply rise or GPUs freed by a cancel run a round of starts at once on the
/// last tick's picture, and a site's fall into deficit a round over that site's jobs (a deficit round: relocations
/// and pauses).
/// </summary>
/// <remarks>
/// Prompt rounds run detached on the grain's scheduler, one at a time, so they interleave with the tick. The tick's
/// reconcile skips the jobs they changed while the steps were out, and a step's count of a job a deficit round moved
/// or paused is of the job's old epoch, which its record ignores. Rounds decide on snapshots without waiting for each
/// other; only applying is one round at a time (the apply gate), and a decision whose job or destination changed
/// since its round's snapshot is dropped, not applied.
/// </remarks>
public sealed partial class DispatcherGrain(
    [PersistentState("dispatcher")] IPersistentState<DispatcherGrainState> state,
    IOptions<PolicyOptions> policy,
    IOptions<SchedulerOptions> options,
    SchedulerClock clock,
    IHostApplicationLifetime lifetime,
    SchedulerMetrics metrics,
    TelemetryHold telemetryHold,
    ILogger<DispatcherGrain> logger) : Grain, IDispatcherGrain
{
    private Dispatcher _dispatcher = null!;
    /// <summary>
    /// The prompt rounds' own policy instance (rounds of starts and deficit rounds, one at a time): a dispatcher is not
    /// thread-safe, and they decide while a tick does.
    /// </summary>
    private Dispatcher _promptDispatcher = null!;
    private JobCatalog _catalog = null!;
    private DecisionLog _log = null!;
    /// <summary>
    /// The live jobs, each as its record last told it, with its site's latest count of its work (values: see
    /// <see cref="TakeCount"/>).
    /// </summary>
    private readonly Dictionary<string, LiveJob> _live = new(StringComparer.Ordinal);
    private readonly WaitingJobs _waiting = new();
    /// <summary>When each job not yet placed reached the dispatcher (real time), for decision latency.</summary>
    private readonly Dictionary<string, DateTimeOffset> _arrivedAt = new(StringComparer.Ordinal);
    private readonly SiteHolds _held = new();
    private readonly Dictionary<string, string> _traceParents = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _lastDeferral = new(StringComparer.Ordinal);
    private TickReport? _lastTick;
    /// <summary>
    /// The live jobs as the tick's full round copies them, kept for the next (only the tick runs rounds over every job,
    /// one at a time). At 100,000 jobs a copy is about 11 MB: the shared array pool kept one for every thread that had
    /// returned one, and the managed heap grew by 270 MB.
    /// </summary>
    private LiveJob[] _roundCopy = [];

    // Prompt dispatch.
    private readonly SemaphoreSlim _applyGate = new(1, 1);
    private RegionTick? _region;
    /// <summary>The supply each site has told of since the last tick's steps began (a rise or a fall).</summary>
    private readonly Dictionary<string, SiteSupplyChange> _told = new(StringComparer.Ordinal);
    /// <summary>Sites that fell into deficit since a deficit round last looked, each with when the earliest such sample arrived.</summary>
    private readonly Dictionary<string, DateTimeOffset> _deficits = new(StringComparer.Ordinal);
    private DateTimeOffset? _promptTriggeredAt;
    private string _promptTrigger = "";
    private bool _promptRunning;
    /// <summary>The prompt round in flight, if any: the tick gives it way (<see cref="GiveWayAsync"/>).</summary>
    private Task _promptRound = Task.CompletedTask;
    /// <summary>
    /// The jobs prompt rounds decided on while the tick's steps were out, and the sites those decisions touched; null
    /// outside that window. A site's report may show such a job as it was before the decision or after it.
    /// </summary>
    private DecidedDuringSteps? _decidedDuringSteps;

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _dispatcher = new Dispatcher(policy.Value.ForPolicy(state.State.Policy));
        _promptDispatcher = new Dispatcher(_dispatcher.Options);
        if (state.State.CatalogPageSize == 0)
        {
            state.State.CatalogPageSize = options.Value.JobCatalogPageSize;
            await state.WriteStateAsync();
        }
        _catalog = await JobCatalog.LoadAsync(OwnRecords.Storage(ServiceProvider), this.GetGrainId(), state.State.CatalogPageSize);
        if (state.State.Catalog.Count > 0)
        {
            // Stored by a version that kept the whole catalogue in one record: move it to pages, then empty it.
            foreach (var summary in state.State.Catalog.Where(s => !_catalog.Contains(s.State.Id))) _catalog.Set(summary, persist: true);
            await _catalog.PersistAllAsync();
            state.State.Catalog = [];
            await state.WriteStateAsync();
        }
        // A crash may have come between the log's write and a job's own: each logged job stores itself again first.
        _log = await DecisionLog.LoadAsync(OwnRecords.Storage(ServiceProvider), this.GetGrainId());
        await PersistAsync([.. _log.Unpersisted]);
        // The job grains hold the truth; reload every live job from them (the pages hold a live job as it was added).
        var live = _catalog.Jobs.Where(s => !s.State.IsTerminal).Select(s => GrainFactory.Get<IJobGrain>(s.State.Id).GetAsync()).ToList();
        foreach (var record in await Task.WhenAll(live))
            if (record is not null) Track(record);
        await _catalog.PersistAllAsync();
    }

    public async Task SetPolicyAsync(string name)
    {
        // ForPolicy refuses an unknown name before anything changes.
        _dispatcher = new Dispatcher(policy.Value.ForPolicy(name));
        _promptDispatcher = new Dispatcher(_dispatcher.Options);
        state.State.Policy = name;
        await state.WriteStateAsync();
    }

    public Task<string> GetPolicyAsync() => Task.FromResult(state.State.Policy);

    /// <remarks>
    /// Interleaves with the tick (see the interface): it only adds a job the dispatcher does not know, or ends one, and
    /// then waits for the job's catalogue page to be written, group-committed with the other creates in flight.
    /// A record of a job the dispatcher already knows is taken only if it ends the job: every other change to a known
    /// job reaches the dispatcher through its own tick, which is never older than a record read elsewhere.
    /// </remarks>
    public async Task TrackAsync(JobRecord job)
    {
        var receivedAt = DateTimeOffset.UtcNow;
        var isNew = !_catalog.Contains(job.State.Id);
        var freesGpus = job.State.IsTerminal && _live.TryGetValue(job.State.Id, out var before) && before.Job.HoldsGpus;
        if (isNew) _waiting.Arriving(job.State.Id);
        if (isNew || job.State.IsTerminal) Track(job);
        if (isNew && job.State.Status == JobStatus.Queued) _arrivedAt[job.State.Id] = receivedAt;
        try
        {
            await _catalog.PersistAsync(job.State.Id);
        }
        finally
        {
            // A failed write fails the create, and the client's retry (same request id) writes it again: as before,
            // the tick may place the job meanwhile.
            _waiting.Stored(job.State.Id);
        }
        // Once it is in the stored catalogue: a job placed before that could run where a restarted dispatcher never looks.
        if (isNew && _waiting.Contains(job.State.Id)) TriggerPromptRound("job", receivedAt);
        // A job that ended where it held GPUs (a cancel) leaves room a waiting job can take now, not a tick later.
        else if (freesGpus && _waiting.Count > 0) TriggerPromptRound("freed", receivedAt);
    }

    public Task ForwardCountAsync(string jobId) => ForwardLatestAsync(jobId, clock.GetUtcNow());

    public Task SupplyRoseAsync(SiteSupplyChange rise)
    {
        if (_region is null || !_region.SiteIds.Contains(rise.SiteId)) return Task.CompletedTask;
        _told[rise.SiteId] = rise;
        _waiting.CapacityRose();
        if (_waiting.Count > 0) TriggerPromptRound(SupplyTrigger, rise.ReceivedAt);
        return Task.CompletedTask;
    }

    public Task SupplyFellAsync(SiteSupplyChange fall)
    {
        if (_region is null || !_region.SiteIds.Contains(fall.SiteId)) return Task.CompletedTask;
        _told[fall.SiteId] = fall;
        // A site that holds no job here has nothing to relocate or pause.
        if (_held.JobsAt(fall.SiteId).Count == 0 || !MayRunPromptRounds) return Task.CompletedTask;
        _deficits.TryAdd(fall.SiteId, fall.ReceivedAt);
        RunPromptRounds();
        return Task.CompletedTask;
    }

    // A silo shutting down takes the sites away first: a round then would only fail.
    private bool MayRunPromptRounds => options.Value.PromptDispatch && _region is not null && !lifetime.ApplicationStopping.IsCancellationRequested;

    /// <summary>Asks for a round of starts; triggers that arrive before it starts are served by the same round.</summary>
    private void TriggerPromptRound(string trigger, DateTimeOffset receivedAt)
    {
        if (!MayRunPromptRounds) return;
        if (_promptTriggeredAt is not { } earlier || receivedAt < earlier)
        {
            _promptTriggeredAt = receivedAt;
            _promptTrigger = trigger;
        }
        RunPromptRounds();
    }

    private void RunPromptRounds()
    {
        if (_promptRunning) return;
        _promptRunning = true;
        // Detached on the grain's scheduler: it must not hold up the call that triggered it, nor wait for the tick's steps.
        _ = PromptRoundsAsync();
    }

    /// <summary>
    /// One prompt round after another while triggers keep coming, so prompt rounds never overlap: deficit rounds first
    /// (they shed load the sites cannot carry, and free GPUs), then a round of starts. A round a sample triggered holds
    /// this silo's telemetry ingest while it runs (<see cref="TelemetryHold"/>): a sample that comes meanwhile could only
    /// trigger the next round, and handling the rest of its burst first made the round's writes wait (docs/performance.md).
    /// </summary>
    private async Task PromptRoundsAsync()
    {
        try
        {
            while (_deficits.Count > 0 || _promptTriggeredAt is not null)
            {
                try
                {
                    if (_deficits.Count > 0)
                    {
                        var fallen = new Dictionary<string, DateTimeOffset>(_deficits, StringComparer.Ordinal);
                        _deficits.Clear();
                        using (telemetryHold.Hold(this.GetPrimaryKeyString())) await (_promptRound = DeficitRoundAsync(fallen));
                    }
                    else
                    {
                        var (triggeredAt, trigger) = (_promptTriggeredAt!.Value, _promptTrigger);
                        _promptTriggeredAt = null;
                        using (trigger == SupplyTrigger ? telemetryHold.Hold(this.GetPrimaryKeyString()) : default) await (_promptRound = PromptRoundAsync(triggeredAt, trigger));
                    }
                }
                catch (Exception ex) when (!lifetime.ApplicationStopping.IsCancellationRequested)
                {
                    // The next trigger or tick tries again; a half-applied decision is what the tick's reconcile repairs.
                    LogPromptRoundFailed(ex);
                }
                catch (Exception)
                {
                    // The silo is stopping: grains are going away under the round, and the next activation ticks first.
                }
            }
        }
        finally
        {
            _promptRunning = false;
        }
    }

    private async Task PromptRoundAsync(DateTimeOffset triggeredAt, string trigger)
    {
        if (!_waiting.AnyToDecide || _lastTick is null || _region is null) return;
        using var span = SchedulerDiagnostics.Source.StartActivity(SchedulerDiagnostics.PromptRoundSpan);
        span?.SetTag(SchedulerDiagnostics.Tags.Region, this.GetPrimaryKeyString());
        span?.SetTag(SchedulerDiagnostics.Tags.Trigger, trigger);
        var now = clock.GetUtcNow();
        var sites = SitesAsTold();
        var (roundJobs, seen, plan) = await DecideAsync(_promptDispatcher, now, sites, _region.Links, RoundScope.StartsOnly);
        span?.SetTag(SchedulerDiagnostics.Tags.RoundJobs, roundJobs);
        await ApplyAsync(plan, seen, sites.ToDictionary(s => s.Spec.Id, StringComparer.Ordinal), span, now, trigger,
            _ => triggeredAt, new HashSet<string>(StringComparer.Ordinal));
        await RecordDeferralsAsync(plan.Deferrals, span, now);
    }

    /// <summary>
    /// A round over the jobs bound at sites that fell into deficit, with every other site's jobs as its held GPUs: the
    /// tick's full round as it would decide for those sites (relocations and pauses; a property test in the core holds
    /// the two to the same decisions), without waiting for the tick. Latency runs from the sample that told the fall.
    /// </summary>
    private async Task DeficitRoundAsync(IReadOnlyDictionary<string, DateTimeOffset> fallen)
    {
        if (_lastTick is null || _region is null) return;
        using var span = SchedulerDiagnostics.Source.StartActivity(SchedulerDiagnostics.PromptRoundSpan);
        span?.SetTag(SchedulerDiagnostics.Tags.Region, this.GetPrimaryKeyString());
        span?.SetTag(SchedulerDiagnostics.Tags.Trigger, DeficitTrigger);
        span?.SetTag(SchedulerDiagnostics.Tags.Sites, string.Join(",", fallen.Keys));
        var now = clock.GetUtcNow();
        var sites = SitesAsTold();
        var (roundJobs, seen, plan) = await DecideAsync(_promptDispatcher, now, sites, _region.Links, RoundScope.Full, fallen.Keys.ToHashSet(StringComparer.Ordinal));
        span?.SetTag(SchedulerDiagnostics.Tags.RoundJobs, roundJobs);
        await ApplyAsync(plan, seen, sites.ToDictionary(s => s.Spec.Id, StringComparer.Ordinal), span, now, DeficitTrigger,
            d => d.FromSiteId is { } from && fallen.TryGetValue(from, out var at) ? at : null, new HashSet<string>(StringComparer.Ordinal));
    }

    /// <summary>The <c>scheduler.round.trigger</c> of a deficit round.</summary>
    private const string DeficitTrigger = "deficit";

    /// <summary>The <c>scheduler.round.trigger</c> of a round of starts on a site's supply rise.</summary>
    private const string SupplyTrigger = "supply";

    /// <summary>
    /// The sites with the supply they have told of since the last tick's steps began, where a site told of a sample
    /// newer than any its status includes. A site tells of a rise or fall at once, and may have stepped before or after
    /// it: the tick's round, given its steps' reports alone, resumed at a site in a front jobs a deficit round had just
    /// paused there, and the next tick paused them again (docs/performance.md).
    /// </summary>
    internal static List<SiteStatus> WithToldSupply(IEnumerable<SiteStatus> sites, IReadOnlyDictionary<string, SiteSupplyChange> told) =>
        [.. sites.Select(s => told.TryGetValue(s.Spec.Id, out var change) && change.ReceivedAt > (s.Plants.Max(p => p.ReceivedAt) ?? DateTimeOffset.MinValue)
            ? s with { GreenSupplyMegawatts = change.GreenSupplyMegawatts }
            : s)];

    /// <summary>The sites as the last tick left them, with the supply they have told of since.</summary>
    private List<SiteStatus> SitesAsTold() => WithToldSupply(_lastTick!.Sites, _told);

    public async Task<TickReport> TickAsync(RegionTick tick)
    {
        var started = Stopwatch.GetTimestamp();
        await GiveWayAsync();
        var now = tick.Now;
        var region = this.GetPrimaryKeyString();
        using var tickSpan = SchedulerDiagnostics.Source.StartActivity(SchedulerDiagnostics.TickSpan);
        tickSpan?.SetTag(SchedulerDiagnostics.Tags.Region, region);
        var stepsStartedAt = DateTimeOffset.UtcNow;
        _decidedDuringSteps = new DecidedDuringSteps();
        var tellSupplyRises = options.Value.PromptDispatch && _waiting.Count > 0;
        // A queue: each report is let go once its counts are taken, not at the end of the tick (an async method's locals
        // live until it returns). Kept to the end, a collection during the round copied 10,000 counts nothing read again.
        var steps = new Queue<Task<SiteStepReport>>(tick.SiteIds.Select(id => GrainFactory.Get<ISiteGrain>(id).StepAsync(now, tellSupplyRises)));

        // What this tick's round must see goes to the records before it: transfers that landed (now running), counts that
        // complete a job (its GPUs are free), jobs a site can no longer run. The other due counts only bring records'
        // progress up to date, which the dispatcher already keeps beside its copies: they go after the decisions.
        // Each site's report is taken while the sites after it may still be stepping: the turn is idle until they are.
        var updates = new List<Task<JobRecord>>();
        var afterDecisions = new List<JobProgress>();
        var statuses = new List<SiteStatus>(steps.Count); // in the sites' order
        var slices = new TurnSlices(this);
        while (steps.TryDequeue(out var step))
        {
            var report = await step;
            statuses.Add(report.Status);
            metrics.SiteStepped(report.Status);
            updates.AddRange(report.Landed.Select(id => GrainFactory.Get<IJobGrain>(id).CompleteTransferAsync(now)));
            foreach (var count in report.Progress)
                switch (TakeCount(count, now))
                {
                    case CountForward.BeforeDecisions: updates.Add(ForwardAsync(count.JobId, count.Counted, now)); break;
                    case CountForward.AfterDecisions: afterDecisions.Add(count); break;
                }
            // Jobs a site can no longer run (its agent is gone, or the process failed) go back to the queue or fail.
            if (report.Lost is { } lost)
                updates.AddRange(lost.Select(l => LoseAsync(report.Status.Spec.Id, l, now)));
            await slices.YieldIfDueAsync();
        }
        await TrackAllAsync(updates);
        await WriteLogAgainAsync();

        // The round copies the live jobs before its first await and decides off the turn while reconcile compares the
        // sites with the records on it: reconcile changes no record, so neither waits for the other. Reconcile also
        // decides what to send at once (no await before), so a prompt round after that cannot confuse it.
        var decidedDuringSteps = _decidedDuringSteps;
        var roundSites = WithToldSupply(statuses, _told);
        var round = DecideAsync(_dispatcher, now, roundSites, tick.Links, RoundScope.Full);
        var changedSites = ReconcileAsync(statuses, decidedDuringSteps.Jobs, now);
        _decidedDuringSteps = null;
        var changed = await changedSites;
        changed.UnionWith(decidedDuringSteps.Sites);
        var (roundJobs, seen, plan) = await round;
        tickSpan?.SetTag(SchedulerDiagnostics.Tags.RoundJobs, roundJobs);
        var sites = roundSites.ToDictionary(s => s.Spec.Id, StringComparer.Ordinal);
        var applied = await ApplyAsync(plan, seen, sites, tickSpan, now, "tick", d => NewestSample(d, sites), changed);

        await RecordDeferralsAsync(plan.Deferrals, tickSpan, now);
        // A count of a job the decisions moved or paused is of its old epoch, and its record ignores it.
        var forwards = new List<Task<JobRecord>>(afterDecisions.Count);
        slices = new TurnSlices(this);
        foreach (var count in afterDecisions)
        {
            forwards.Add(ForwardAsync(count.JobId, count.Counted, now));
            await slices.YieldIfDueAsync();
        }
        await TrackAllAsync(forwards);
        metrics.JobsCounted(region, _catalog.Jobs.Select(s => s.State.Status));
        // Only the pages of jobs that ended this tick (and of jobs created meanwhile, already being written).
        await _catalog.PersistAllAsync();
        // The sites as the decisions left them (who runs where until the next tick): only the sites that reconcile or
        // a decision touched are read again; the others are as their step reported them.
        var after = await Task.WhenAll(statuses.Select(async s => changed.Contains(s.Spec.Id)
            ? await GrainFactory.Get<ISiteGrain>(s.Spec.Id).GetAsync() ?? s
            : s));
        _lastTick = new TickReport(now, applied, _live.Count, after);
        _region = tick;
        // A change told before the steps began is in the steps' reports already.
        foreach (var (siteId, _) in _told.Where(r => r.Value.ReceivedAt < stepsStartedAt).ToList()) _told.Remove(siteId);
        metrics.TickCompleted(region, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        return _lastTick;
    }

    /// <summary>
    /// Takes a site's count of a job's progress, and says whether and when in the tick the job's record is due for it:
    /// one that completes the job before the round's decisions (its GPUs are free); the others when due
    /// (<see cref="StaggeredSchedule"/>), after them. Forwarding every count to every job grain each tick made a tick
    /// 10,000 grain calls at the scale of the performance issue, and prompt rounds waited behind them. Counts are
    /// cumulative, so a record that skips some loses nothing (<see cref="JobLifecycle.Credit"/>).
    /// </summary>
    /// <remarks>
    /// The count is kept as a value beside the job and applied only where the job is read (<see cref="LiveJob.Counted"/>).
    /// Writing a counted copy of every running job into the live set each tick kept 10,000 new objects a tick alive
    /// until the next, each referenced from an old dictionary: the young collections copied and scanned them
    /// (docs/performance.md).
    /// </remarks>
    private CountForward TakeCount(JobProgress count, DateTimeOffset now)
    {
        ref var live = ref CollectionsMarshal.GetValueRefOrNullRef(_live, count.JobId);
        if (Unsafe.IsNullRef(ref live)) return CountForward.BeforeDecisions; // not known here: the record judges
        var interval = options.Value.ProgressForwardInterval;
        var first = live.Count is null;
        var due = first || StaggeredSchedule.IsDue(live.ForwardedAt, interval, now);
        live = live with
        {
            Count = count.Counted,
            ForwardedAt = first ? StaggeredSchedule.Start(now, interval, Random.Shared.NextDouble())
                : due ? StaggeredSchedule.Next(live.ForwardedAt, interval, now) : live.ForwardedAt,
        };
        // One that completes the job goes to the record first, and Track then ends the job here.
        if (count.Counted.IsComplete && count.Counted.Epoch == live.Job.Epoch) return CountForward.BeforeDecisions;
        return due ? CountForward.AfterDecisions : CountForward.None;
    }

    /// <summary>Whether, and when in the tick, a site's count of a job's work goes to the job's record.</summary>
    private enum CountForward { None, BeforeDecisions, AfterDecisions }

    /// <summary>Takes the records the calls return, a slice of the turn at a time.</summary>
    private async Task TrackAllAsync(List<Task<JobRecord>> updates)
    {
        var records = await Task.WhenAll(updates);
        var slices = new TurnSlices(this);
        foreach (var record in records)
        {
            Track(record);
            await slices.YieldIfDueAsync();
        }
    }

    /// <summary>What <see cref="_decidedDuringSteps"/> holds.</summary>
    private sealed class DecidedDuringSteps
    {
        public HashSet<string> Jobs { get; } = new(StringComparer.Ordinal);
        public HashSet<string> Sites { get; } = new(StringComparer.Ordinal);

        public void Add(Decision decision)
        {
            Jobs.Add(decision.JobId);
            if (decision.FromSiteId is { } from) Sites.Add(from);
            Sites.Add(decision.ToSiteId);
        }
    }

    /// <summary>
    /// Splits a long stretch of the tick's work into slices of <see cref="TurnSlice"/>: the grain runs one piece of work
    /// at a time, so prompt rounds and creates wait for the slice they arrive in, not for the whole stretch. A prompt
    /// round in flight ends the slice at once (<see cref="GiveWayAsync"/>).
    /// </summary>
    private sealed class TurnSlices(DispatcherGrain grain)
    {
        private long _start = Stopwatch.GetTimestamp();

        /// <summary>
        /// Gives up the turn to a prompt round in flight, or once this slice has lasted <see cref="TurnSlice"/> (work
        /// queued meanwhile runs); otherwise completes at once.
        /// </summary>
        public async ValueTask YieldIfDueAsync()
        {
            if (!grain._promptRound.IsCompleted) await grain.GiveWayAsync();
            else if (Stopwatch.GetElapsedTime(_start) < TurnSlice) return;
            else await Task.Yield();
            _start = Stopwatch.GetTimestamp();
        }
    }

    /// <summary>
    /// Waits for the prompt round in flight, if any, before the tick goes on. The tick's work is not urgent and a
    /// prompt round's decisions are: yielding the turn for a slice was not enough, as a round's every await (its job
    /// calls, the log's write, each site's) then queued behind the tick's work on this grain and on the two cores. It
    /// waits for that one round only, not for those after it: a burst of creates runs rounds back to back, and the
    /// tick still gets a slice between two of them.
    /// </summary>
    private async ValueTask GiveWayAsync()
    {
        // A failed round is the prompt loop's to log; here it only ends the wait.
        if (!_promptRound.IsCompleted)
            await _promptRound.ConfigureAwait(ConfigureAwaitOptions.ContinueOnCapturedContext | ConfigureAwaitOptions.SuppressThrowing);
    }

    /// <summary>Gives a job's record a count of its progress.</summary>
    private Task<JobRecord> ForwardAsync(string jobId, EpochProgress count, DateTimeOffset now) =>
        GrainFactory.Get<IJobGrain>(jobId).RecordProgressAsync(new JobProgress(jobId, count), now);

    /// <summary>Gives a job's record the latest count of its progress, if its site has counted any.</summary>
    private Task ForwardLatestAsync(string jobId, DateTimeOffset now) =>
        _live.TryGetValue(jobId, out var live) && live.Count is { } count ? ForwardAsync(jobId, count, now) : Task.CompletedTask;

    /// <summary>A job its site can no longer run: its record first gets the work counted so far, then the loss.</summary>
    private async Task<JobRecord> LoseAsync(string siteId, LostJob lost, DateTimeOffset now)
    {
        await ForwardLatestAsync(lost.JobId, now);
        return await GrainFactory.Get<IJobGrain>(lost.JobId).RecordLostAsync(siteId, lost, now);
    }

    /// <summary>
    /// Runs the policy on the sites given and the live jobs. The policy is pure and reads only the snapshot: a full round
    /// runs off the grain's turn, so that creates and cancels (TrackAsync interleaves) and prompt rounds are not held up
    /// behind its CPU work. On the turn it only copies the live jobs as they are (values, into a kept array); the
    /// jobs as counted are made off it. Making them on the turn held prompt decisions up for about 7 ms a tick at 10,000
    /// jobs (docs/performance.md). A starts-only round is given only the waiting jobs (<see cref="WaitingJobs.TakeForPromptRound"/>),
    /// and the others as each site's GPUs held (copying and walking 10,000 running jobs was 4.5 ms of a prompt round);
    /// a deficit round only the jobs bound at its sites, counted, and the others' likewise. While few jobs are given, a
    /// round is too short to hand off.
    /// </summary>
    /// <param name="onlySites">A deficit round's sites; null for the other rounds.</param>
    /// <returns>How many jobs the round saw, the decided ones as it saw them (for <see cref="StillHolds"/>), and the plan.</returns>
    private async Task<(int Jobs, IReadOnlyDictionary<string, JobState> Seen, DispatchPlan Plan)> DecideAsync(Dispatcher dispatcher, DateTimeOffset now,
        IReadOnlyList<SiteStatus> sites, IReadOnlyList<Scheduler.Core.Model.LinkSpec> links, RoundScope scope, IReadOnlySet<string>? onlySites = null)
    {
        var full = scope == RoundScope.Full && onlySites is null;
        var siteSnapshots = sites.Select(s => new SiteSnapshot(s.Spec, s.GreenSupplyMegawatts, s.OutsideCelsius, s.StateOfChargeMegawattHours,
            s.Forecast, s.Executor?.Available ?? true, full || onlySites?.Contains(s.Spec.Id) == true ? 0 : _held.GpusAt(s.Spec.Id))).ToList();
        if (!full)
        {
            // Waiting jobs have no counts; bound ones are taken as their sites last counted them.
            var jobs = onlySites is null
                ? _waiting.TakeForPromptRound().Select(id => _live[id].Job).ToList()
                // In id order: a set's order differs from one process to the next, and the policy breaks some ties by order.
                : onlySites.SelectMany(_held.JobsAt).Order(StringComparer.Ordinal).Select(id => _live[id].Counted(now)).ToList();
            var snapshot = new FleetSnapshot(now, siteSnapshots, links, jobs);
            // A round over a few jobs takes a fraction of a millisecond: handing it to the thread pool and back
            // cost more than that whenever the tick's work filled the pool's queue.
            var plan = jobs.Count <= InlineRoundJobs ? dispatcher.Decide(snapshot, scope) : await Task.Run(() => dispatcher.Decide(snapshot, scope));
            return (jobs.Count, Decided(jobs, plan), plan);
        }
        var count = _live.Count;
        if (_roundCopy.Length < count) _roundCopy = new LiveJob[count + count / 4];
        var live = _roundCopy;
        _live.Values.CopyTo(live, 0);
        _waiting.FullRoundStarted();
        try
        {
            return await Task.Run(() =>
            {
                var jobs = new List<JobState>(count);
                for (var i = 0; i < count; i++) jobs.Add(live[i].Counted(now));
                var plan = dispatcher.Decide(new FleetSnapshot(now, siteSnapshots, links, jobs), scope);
                return (count, Decided(jobs, plan), plan);
            });
        }
        finally
        {
            Array.Clear(live, 0, count); // the jobs it held are not kept alive by it
        }
    }

    /// <summary>The jobs a plan decides on, as its round saw them.</summary>
    private static Dictionary<string, JobState> Decided(IReadOnlyList<JobState> jobs, DispatchPlan plan)
    {
        var decided = plan.Decisions.Select(d => d.JobId).ToHashSet(StringComparer.Ordinal);
        var seen = new Dictionary<string, JobState>(decided.Count, StringComparer.Ordinal);
        foreach (var job in jobs)
            if (decided.Contains(job.Id)) seen[job.Id] = job;
        return seen;
    }

    /// <summary>
    /// Applies a round's decisions, one round at a time, in the round's order and in waves (below); one refused leaves
    /// the others standing. A decision is dropped when another round got there first: its job is no longer as the round
    /// saw it, or its destination no longer has the GPUs. The job is then decided again in the next round.
    /// </summary>
    /// <remarks>
    /// Decisions go out in waves of up to <see cref="ApplyWave"/> at once, each checked against the region as the waves
    /// before left it and the GPUs the decisions before it in its wave take. One that does not fit ends the wave: a
    /// relocation or a pause in it may free the GPUs it needs, so it is checked again once the wave has landed, and only
    /// then dropped. A wave lands in two halves: every job takes its decision (<see cref="TakeAsync"/>) and the wave is
    /// stored in one write of the decision log, then the sites are told, one call per site (<see cref="TellSitesAsync"/>).
    /// Each job then writes its own record (<see cref="PersistAsync"/>), which is off the decisions' latency.
    /// One decision at a time, a tick that placed 35,000 queued jobs applied for 27.6 s and missed Orleans' 30 s response
    /// timeout; and with one site call per decision, a front's fifty releases at one site were stored one after another.
    /// </remarks>
    /// <param name="seen">The decided jobs as the round's policy saw them.</param>
    /// <param name="changedSites">Gets every site a decision touched.</param>
    private async Task<List<Decision>> ApplyAsync(DispatchPlan plan, IReadOnlyDictionary<string, JobState> seen, IReadOnlyDictionary<string, SiteStatus> sites,
        Activity? round, DateTimeOffset now, string trigger, Func<Decision, DateTimeOffset?> triggeredAt, HashSet<string> changedSites)
    {
        var applied = new List<Decision>(plan.Decisions.Count);
        if (plan.Decisions.Count == 0) return applied;
        await _applyGate.WaitAsync();
        try
        {
            var decisions = plan.Decisions;
            var wave = new List<(Decision Decision, Task<TakenDecision?> Taken)>(ApplyWave);
            // GPUs the wave's decisions take, per site, until their records are tracked.
            var taking = new Dictionary<string, int>(StringComparer.Ordinal);
            // A silo shutting down takes the grains away under the round: the rest waits for the next activation.
            for (var i = 0; i < decisions.Count && !lifetime.ApplicationStopping.IsCancellationRequested;)
            {
                wave.Clear();
                taking.Clear();
                for (; i < decisions.Count && wave.Count < ApplyWave; i++)
                {
                    var decision = decisions[i];
                    var job = seen[decision.JobId];
                    if (StillHolds(decision, job, sites, taking.GetValueOrDefault(decision.ToSiteId)))
                    {
                        // A decision waits for its round's trigger and, for a job not yet placed, for the job: latency runs from the later.
                        var since = Later(triggeredAt(decision), _arrivedAt.TryGetValue(decision.JobId, out var arrived) ? arrived : null);
                        wave.Add((decision, TakeAsync(decision, sites, round, now, since, changedSites)));
                        taking[decision.ToSiteId] = taking.GetValueOrDefault(decision.ToSiteId) + GpusTaken(decision, job);
                    }
                    // What the wave in flight frees (a relocation's or a pause's GPUs) may make room: checked again after it.
                    else if (wave.Count > 0) break;
                    else
                    {
                        LogDecisionDropped(decision.Kind, decision.JobId, decision.ToSiteId);
                        _waiting.DecideAgain(decision.JobId);
                    }
                }
                var taken = await Task.WhenAll(wave.Select(w => w.Taken));
                var logged = taken.OfType<TakenDecision>().Select(t => t.Logged).ToList();
                if (logged.Count > 0) await _log.WriteAsync(logged);
                var landedAt = await TellSitesAsync(taken, now);
                for (var k = 0; k < wave.Count; k++)
                {
                    var decision = wave[k].Decision;
                    if (landedAt[k] is { } at)
                    {
                        applied.Add(decision);
                        metrics.DecisionApplied(decision, taken[k]!.Since is { } t ? (at - t).TotalMilliseconds : double.NaN, trigger);
                        LogDecision(decision.Kind, decision.JobId, decision.FromSiteId, decision.ToSiteId, decision.Reason, decision.Detail);
                    }
                    // A job still waiting is for the next round to decide again.
                    else _waiting.DecideAgain(decision.JobId);
                }
                // After the sites, off the decisions' latency; before the next wave, which overwrites the log. Jobs an
                // earlier wave failed to persist (still in the log) get another try.
                await PersistAsync([.. _log.Unpersisted]);
            }
        }
        finally
        {
            _applyGate.Release();
        }
        return applied;
    }

    /// <summary>GPUs a decision takes at its destination: none for a pause, nor for a job that stays where it holds them.</summary>
    private static int GpusTaken(Decision decision, JobState job) =>
        decision.Kind == DecisionKind.Pause || (job.HoldsGpus && job.SiteId == decision.ToSiteId) ? 0 : job.Spec.Gpus;

    /// <summary>
    /// Whether a decision still fits the region as it is now: its job unchanged since the round saw it (and, if new,
    /// stored), its GPUs still free.
    /// </summary>
    /// <param name="taking">GPUs at the decision's destination that decisions applied alongside it are taking.</param>
    private bool StillHolds(Decision decision, JobState seen, IReadOnlyDictionary<string, SiteStatus> sites, int taking)
    {
        if (!_waiting.MayStart(decision.JobId)) return false; // only a new job is not yet stored: any decision on it starts it
        if (!_live.TryGetValue(decision.JobId, out var live) || live.Job.Status != seen.Status || live.Job.Epoch != seen.Epoch) return false;
        var gpus = GpusTaken(decision, live.Job);
        return gpus == 0 || (sites.TryGetValue(decision.ToSiteId, out var to) && _held.GpusAt(decision.ToSiteId) + taking + gpus <= to.Spec.GpuCount);
    }

    /// <summary>
    /// A decision its job has taken: its record, the job as logged, the site the job leaves (if any), and when its
    /// latency started.
    /// </summary>
    private sealed record TakenDecision(Decision Decision, JobRecord Record, LoggedJob Logged, string? LeavesSiteId, DateTimeOffset? Since);

    /// <summary>Each logged job stores its own record; the log then leaves out those that did (<see cref="DecisionLog"/>).</summary>
    private Task PersistAsync(IReadOnlyList<LoggedJob> jobs) => Task.WhenAll(jobs.Select(async job =>
    {
        await GrainFactory.Get<IJobGrain>(job.Record.State.Id).PersistAsync(job);
        _log.Persisted(job);
    }));

    /// <summary>The job's half of a decision: the job takes it, not yet written (the wave's log stores it). Null if the job refused it.</summary>
    private async Task<TakenDecision?> TakeAsync(Decision decision, IReadOnlyDictionary<string, SiteStatus> sites, Activity? round, DateTimeOffset now,
        DateTimeOffset? since, HashSet<string> changedSites)
    {
        var job = GrainFactory.Get<IJobGrain>(decision.JobId);
        if (decision.FromSiteId is { } from) changedSites.Add(from);
        changedSites.Add(decision.ToSiteId);
        var cost = decision.Relocation is { } move && sites.TryGetValue(decision.ToSiteId, out var to)
            ? EnergyLedger.ForRelocation(move.Gigabytes, move.TransferEnergyMegawattHours, to.Spec.GridPriceCnyPerKilowattHour, to.Spec.GridCarbonKgPerKilowattHour)
            : default;
        // A job that moves or pauses starts a new epoch: its record takes the work its site counted in the old one, in the same write.
        var counted = decision.Kind is DecisionKind.Relocate or DecisionKind.Pause && _live.TryGetValue(decision.JobId, out var live) ? live.Count : null;
        using var span = StartDecisionSpan(decision, round, sites);
        try
        {
            var taken = await job.ApplyAsync(decision, cost, now, counted);
            Track(taken.Record);
            // In the same turn as the record: the tick's reconcile must not see the job bound without knowing why.
            _decidedDuringSteps?.Add(decision);
            return new TakenDecision(decision, taken.Record, taken.Logged, taken.LeavesSiteId, since);
        }
        catch (Exception ex) when (ex is JobTransitionException or InvalidJobTransitionException)
        {
            // The job changed under us (cancelled, say, or done): take its record as it is now.
            LogDecisionRefused(decision.Kind, decision.JobId, ex.Message);
            span?.SetStatus(ActivityStatusCode.Error, ex.Message);
            if (await job.GetAsync() is { } current) Track(current);
            return null;
        }
    }

    /// <summary>
    /// The sites' half of a wave: one call to each site that jobs leave, then one to each site jobs are bound to, so
    /// that a job's old site lets go before its new one binds it; each call is one write at its site (ADR 8). A job
    /// whose old site's agent checkpoints it has that written in its record before its new site is told.
    /// </summary>
    /// <returns>
    /// Per decision of the wave, when it landed (real time): taken by its record, and its last site told (the old one
    /// for a pause, the new one otherwise) without refusing it; null if it did not land. A pause does not wait for the
    /// wave's starts at other sites.
    /// </returns>
    private async Task<DateTimeOffset?[]> TellSitesAsync(IReadOnlyList<TakenDecision?> wave, DateTimeOffset now)
    {
        var landedAt = new DateTimeOffset?[wave.Count];
        var records = wave.Select(t => t?.Record).ToArray();
        // A decision that neither leaves a site nor binds one has no site to tell.
        var start = DateTimeOffset.UtcNow;
        for (var k = 0; k < wave.Count; k++)
            if (wave[k] is { LeavesSiteId: null, Record.State.HoldsGpus: false }) landedAt[k] = start;

        var checkpointing = new List<int>();
        await Task.WhenAll(Grouped(Enumerable.Range(0, wave.Count).Where(k => wave[k]?.LeavesSiteId is not null), k => wave[k]!.LeavesSiteId!)
            .Select(async site =>
            {
                var results = await GrainFactory.Get<ISiteGrain>(site.Key).ChangeJobsAsync(
                    new SiteJobCommands([.. site.Select(k => new JobRelease(records[k]!.State.Id, records[k]!.State.Epoch, KeepState: true))], []));
                var n = 0;
                var released = DateTimeOffset.UtcNow;
                foreach (var k in site)
                    if (results.Releases[n++] == ReleaseOutcome.Checkpointing) checkpointing.Add(k);
                    else if (!records[k]!.State.HoldsGpus) landedAt[k] = released;
            }));
        if (checkpointing.Count > 0)
        {
            var awaited = await Task.WhenAll(checkpointing.Select(k =>
                GrainFactory.Get<IJobGrain>(records[k]!.State.Id).AwaitCheckpointAsync(records[k]!.State.Epoch, now)));
            var recorded = DateTimeOffset.UtcNow;
            for (var c = 0; c < checkpointing.Count; c++)
            {
                records[checkpointing[c]] = awaited[c];
                Track(awaited[c]);
                if (!awaited[c].State.HoldsGpus) landedAt[checkpointing[c]] = recorded;
            }
        }

        await Task.WhenAll(Grouped(Enumerable.Range(0, wave.Count).Where(k => records[k] is { State.HoldsGpus: true }), k => records[k]!.State.SiteId!)
            .Select(async site =>
            {
                var results = await GrainFactory.Get<ISiteGrain>(site.Key).ChangeJobsAsync(
                    new SiteJobCommands([], [.. site.Select(k => new JobAssignment(records[k]!.State, records[k]!.State.TransferEndsAt))]));
                var n = 0;
                var bound = DateTimeOffset.UtcNow;
                foreach (var k in site)
                    if (results.StartRefusals[n++] is { } why)
                    {
                        // The site knows better (a newer epoch, or fewer free GPUs): the tick's reconcile repairs the record's binding.
                        LogDecisionRefused(wave[k]!.Decision.Kind, records[k]!.State.Id, why);
                    }
                    else landedAt[k] = bound;
            }));
        return landedAt;

        static IEnumerable<IGrouping<string, int>> Grouped(IEnumerable<int> indices, Func<int, string> site) => indices.GroupBy(site, StringComparer.Ordinal);
    }

    /// <summary>
    /// One span per decision, in the job's own trace (its parent is the job's root span), linked to its round (the
    /// tick, or a prompt round) and to the telemetry samples of the sites involved. Its events are the best candidate
    /// sites with their surplus and scores, and the rejected ones per filter (<see cref="CandidateSummary"/>).
    /// </summary>
    private Activity? StartDecisionSpan(Decision decision, Activity? tick, IReadOnlyDictionary<string, SiteStatus> sites)
    {
        var parent = _traceParents.TryGetValue(decision.JobId, out var traceParent) && ActivityContext.TryParse(traceParent, null, out var context)
            ? context : tick?.Context ?? default;
        var links = new List<ActivityLink>();
        if (tick is not null) links.Add(new ActivityLink(tick.Context));
        foreach (var siteId in new[] { decision.FromSiteId, decision.ToSiteId }.Distinct())
            if (siteId is not null && sites.TryGetValue(siteId, out var site))
                foreach (var plant in site.Plants)
                    if (plant.TraceParent is { } p && ActivityContext.TryParse(p, null, out var sample)) links.Add(new ActivityLink(sample));

        var span = SchedulerDiagnostics.Source.StartActivity(SchedulerDiagnostics.DecisionSpan, ActivityKind.Internal, parent, links: links);
        if (span is null) return null;
        span.DisplayName = $"{SchedulerDiagnostics.DecisionSpan} {decision.Kind.ToString().ToLowerInvariant()}";
        span.SetTag(SchedulerDiagnostics.Tags.JobId, decision.JobId);
        if (_live.TryGetValue(decision.JobId, out var live)) span.SetTag(SchedulerDiagnostics.Tags.Tenant, live.Job.Spec.TenantId);
        span.SetTag(SchedulerDiagnostics.Tags.Region, this.GetPrimaryKeyString());
        span.SetTag(SchedulerDiagnostics.Tags.DecisionKind, decision.Kind.ToString().ToLowerInvariant());
        span.SetTag(SchedulerDiagnostics.Tags.Reason, decision.Reason);
        span.SetTag(SchedulerDiagnostics.Tags.Detail, decision.Detail);
        span.SetTag(SchedulerDiagnostics.Tags.FromSite, decision.FromSiteId);
        span.SetTag(SchedulerDiagnostics.Tags.ToSite, decision.ToSiteId);
        span.SetTag(SchedulerDiagnostics.Tags.ExpectedGreenGain, decision.ExpectedGreenGainMegawattHours);
        if (decision.Relocation is { } move)
        {
            span.SetTag(SchedulerDiagnostics.Tags.RelocationGigabytes, move.Gigabytes);
            span.SetTag(SchedulerDiagnostics.Tags.RelocationSeconds, move.TransferHours * 3600);
            span.SetTag(SchedulerDiagnostics.Tags.RelocationMegawattHours, move.TotalMegawattHours);
        }
        // The scored sites best first (the chosen one first of all), as many as TracedCandidates; then one event per
        // filter for the sites it rejected, naming as many. Every decision is traced, and one event per site took 4.5 %
        // of job creation's CPU at 150 sites; and the SDK keeps only 128 events a span, so the last sites were dropped.
        var summary = CandidateSummary.Of(decision.Candidates, decision.ToSiteId, options.Value.TracedCandidates);
        foreach (var c in summary.Best)
            span.AddEvent(new ActivityEvent(SchedulerDiagnostics.CandidateEvent, tags: new ActivityTagsCollection
            {
                [SchedulerDiagnostics.Tags.Site] = c.SiteId,
                [SchedulerDiagnostics.Tags.CandidateSurplus] = c.SurplusMegawatts,
                [SchedulerDiagnostics.Tags.CandidateScore] = c.TotalScore,
                [SchedulerDiagnostics.Tags.CandidateScores] = FormatScores(c.Scores),
            }));
        foreach (var rejected in summary.Rejected)
            span.AddEvent(new ActivityEvent(SchedulerDiagnostics.RejectedCandidatesEvent, tags: new ActivityTagsCollection
            {
                [SchedulerDiagnostics.Tags.CandidateRejectedBy] = rejected.Filter,
                [SchedulerDiagnostics.Tags.CandidateCount] = rejected.Count,
                [SchedulerDiagnostics.Tags.Sites] = string.Join(",", rejected.SiteIds),
                [SchedulerDiagnostics.Tags.CandidateRejection] = $"{rejected.First.SiteId}: {rejected.First.Rejection}",
            }));
        return span;
    }

    /// <summary>Each scorer's normalised and raw value, <c>green-headroom=100 (4.2), battery-state=…</c>: one string, no pieces.</summary>
    private static string FormatScores(IReadOnlyList<StageScore> scores)
    {
        var text = new DefaultInterpolatedStringHandler(0, 0, CultureInfo.InvariantCulture, stackalloc char[256]);
        for (var i = 0; i < scores.Count; i++)
        {
            if (i > 0) text.AppendLiteral(", ");
            text.AppendFormatted(scores[i].Scorer);
            text.AppendLiteral("=");
            text.AppendFormatted(scores[i].Normalised, "0.#");
            text.AppendLiteral(" (");
            text.AppendFormatted(scores[i].Raw, "0.###");
            text.AppendLiteral(")");
        }
        return text.ToStringAndClear();
    }

    /// <summary>
    /// A job left waiting is a decision too ("reject" in traces, "deferred" in its history), recorded when its reason
    /// changes rather than on every tick it keeps waiting; a wave of <see cref="ApplyWave"/> records at a time.
    /// </summary>
    private async Task RecordDeferralsAsync(IReadOnlyList<Deferral> deferrals, Activity? round, DateTimeOffset now)
    {
        var wave = new List<Task>(ApplyWave);
        foreach (var deferral in deferrals)
        {
            if (_lastDeferral.TryGetValue(deferral.JobId, out var last) && last == deferral.Reason) continue;
            _lastDeferral[deferral.JobId] = deferral.Reason;
            wave.Add(RecordDeferralAsync(deferral, round, now));
            if (wave.Count < ApplyWave) continue;
            await Task.WhenAll(wave);
            wave.Clear();
        }
        await Task.WhenAll(wave);
    }

    private async Task RecordDeferralAsync(Deferral deferral, Activity? round, DateTimeOffset now)
    {
        var detail = deferral.Reason switch
        {
            DeferralReasons.WaitingForSurplus => "the job can wait, and no candidate site's green surplus covers it now",
            DeferralReasons.NoCapacity => "no site has enough free GPUs for the job",
            _ => "every candidate site was rejected",
        };
        var parent = _traceParents.TryGetValue(deferral.JobId, out var p) && ActivityContext.TryParse(p, null, out var c) ? c : round?.Context ?? default;
        using var span = SchedulerDiagnostics.Source.StartActivity(SchedulerDiagnostics.DecisionSpan, ActivityKind.Internal, parent,
            links: round is null ? null : [new ActivityLink(round.Context)]);
        if (span is not null)
        {
            span.DisplayName = $"{SchedulerDiagnostics.DecisionSpan} reject";
            span.SetTag(SchedulerDiagnostics.Tags.JobId, deferral.JobId);
            span.SetTag(SchedulerDiagnostics.Tags.DecisionKind, "reject");
            span.SetTag(SchedulerDiagnostics.Tags.Reason, deferral.Reason);
            span.SetTag(SchedulerDiagnostics.Tags.Detail, detail);
        }
        Track(await GrainFactory.Get<IJobGrain>(deferral.JobId).RecordDeferralAsync(deferral.Reason, detail, now));
    }

    /// <summary>
    /// Job records a round writes at once (its starts, or its deferrals): the job grains and their storage take them
    /// together (the SQLite writer commits what is queued as one transaction), where one after another each waited
    /// for its own commit. Enough for a front over one site to land in one wave: with 64, the 100 decisions of a front
    /// over a large site took two, the second waiting for the first's writes, and set the window's p99.
    /// </summary>
    private const int ApplyWave = 256;

    /// <summary>
    /// A live job as its record last told it, its site's latest count of its work (cumulative per epoch; none while it
    /// holds no GPUs), and when its record last got a count. A value: a count changes no object (see <see cref="TakeCount"/>).
    /// </summary>
    private readonly record struct LiveJob(JobState Job, EpochProgress? Count, DateTimeOffset ForwardedAt)
    {
        /// <summary>
        /// The job as its site last counted it: what a round decides on and a reconcile restarts. A count that would
        /// complete the job leaves it as it is: the job's record completes it, and <see cref="Track"/> then ends it here.
        /// </summary>
        public JobState Counted(DateTimeOffset now) =>
            Count is { IsComplete: false } count ? JobLifecycle.Credit(Job, default, null, count, now).Job : Job;
    }

    /// <summary>
    /// How long the tick works on its turn before it lets prompt rounds and creates in (<see cref="TurnSlices"/>). Slices
    /// of 500 counts each were up to 10 ms when the counts' grain calls went out in them.
    /// </summary>
    private static readonly TimeSpan TurnSlice = TimeSpan.FromMilliseconds(1);

    /// <summary>Jobs up to which a prompt round (starts or deficit) decides on the grain's turn rather than on the thread pool.</summary>
    private const int InlineRoundJobs = 1_000;

    /// <summary>When the newest sample of the sites a decision involves arrived (real time): what a tick's decision waited for.</summary>
    private static DateTimeOffset? NewestSample(Decision decision, IReadOnlyDictionary<string, SiteStatus> sites) =>
        new[] { decision.FromSiteId, decision.ToSiteId }
            .Where(id => id is not null && sites.ContainsKey(id)).SelectMany(id => sites[id!].Plants)
            .Select(p => p.ReceivedAt).Where(t => t is not null).Max();

    private static DateTimeOffset? Later(DateTimeOffset? a, DateTimeOffset? b) => a is null ? b : b is null ? a : a > b ? a : b;

    public Task<JobPage> ListJobsAsync(JobQuery query)
    {
        var matches = _catalog.Jobs.Where(s =>
            (query.TenantId is null || s.State.Spec.TenantId == query.TenantId)
            && (query.Status is null || s.State.Status == query.Status)
            && (query.SiteId is null || s.State.SiteId == query.SiteId)).ToList();
        var page = matches.Skip(query.Offset).Take(query.PageSize).ToList();
        int? next = query.Offset + page.Count < matches.Count ? query.Offset + page.Count : null;
        return Task.FromResult(new JobPage(page, next, matches.Count));
    }

    public Task<IReadOnlyList<JobSummary>> GetSummariesAsync() => Task.FromResult<IReadOnlyList<JobSummary>>(_catalog.Jobs.ToList());

    public Task<TickReport?> GetLastTickAsync() => Task.FromResult(_lastTick);

    /// <summary>
    /// Makes every site agree with the job records: a site missing a job that is bound to it is told again (the
    /// command is idempotent), and a site holding a job bound elsewhere, or finished, lets it go. A job whose decision
    /// only memory holds (its decision log write failed) is left alone: no site may act on a decision no store holds.
    /// </summary>
    /// <returns>The sites that were sent a command.</returns>
    /// <param name="decidedDuringSteps">
    /// Jobs a prompt round decided on while the sites reported: a report may show such a job where it was (a pause, a
    /// relocation) or not yet where it now is (a start), and the round tells the sites itself.
    /// </param>
    private async Task<HashSet<string>> ReconcileAsync(IReadOnlyList<SiteStatus> sites, IReadOnlySet<string> decidedDuringSteps, DateTimeOffset now)
    {
        var commands = new List<Task>();
        var commanded = new HashSet<string>(StringComparer.Ordinal);
        foreach (var site in sites)
        {
            if (Agrees(site)) continue;
            var grain = GrainFactory.Get<ISiteGrain>(site.Spec.Id);
            var before = commands.Count;
            var held = site.Jobs.ToDictionary(a => a.Job.Id, StringComparer.Ordinal);
            foreach (var a in site.Jobs)
            {
                var owner = _live.TryGetValue(a.Job.Id, out var live) ? live.Job : null;
                var known = _catalog.Contains(a.Job.Id);
                if (known && !IsBoundTo(owner, site.Spec.Id) && Settled(a.Job.Id))
                    commands.Add(grain.StopJobAsync(a.Job.Id, owner?.Epoch ?? a.Job.Epoch + 1));
            }
            foreach (var live in _held.JobsAt(site.Spec.Id).Where(id => !held.ContainsKey(id) && Settled(id)).Select(id => _live[id]))
                commands.Add(grain.StartJobAsync(new JobAssignment(live.Counted(now), live.Job.TransferEndsAt)));
            if (commands.Count > before) commanded.Add(site.Spec.Id);
        }
        if (commands.Count == 0) return commanded;
        LogReconciled(commands.Count);
        try { await Task.WhenAll(commands); }
        catch (Exception ex) when (ex is StaleEpochException or InvalidOperationException) { LogDecisionRefused(DecisionKind.Place, "reconcile", ex.Message); }
        return commanded;

        bool Settled(string jobId) => !decidedDuringSteps.Contains(jobId) && _log.IsWritten(jobId);
    }

    /// <summary>
    /// Stores the decisions a failed decision-log write left in memory, then the jobs' own records, so that reconcile
    /// may tell their sites. If the storage fails again, reconcile leaves those jobs alone and the next tick tries again.
    /// </summary>
    private async Task WriteLogAgainAsync()
    {
        if (_log.AllWritten) return;
        await _applyGate.WaitAsync();
        try
        {
            if (_log.AllWritten) return;
            await _log.WriteAsync([]);
            await PersistAsync([.. _log.Unpersisted]);
        }
        catch (Exception ex) when (!lifetime.ApplicationStopping.IsCancellationRequested)
        {
            LogDecisionLogWriteFailed(ex);
        }
        finally
        {
            _applyGate.Release();
        }
    }

    /// <summary>
    /// Whether a site runs exactly the jobs bound to it here: each job it runs is bound to it, and it runs as many as are.
    /// One lookup per job; the full comparison in <see cref="ReconcileAsync"/>, several per job, took about 10 ms of the
    /// dispatcher's turn per tick at 10,000 jobs, and prompt decisions waited behind it (docs/performance.md).
    /// </summary>
    private bool Agrees(SiteStatus site)
    {
        if (site.Jobs.Count != _held.JobsAt(site.Spec.Id).Count) return false;
        foreach (var a in site.Jobs)
            if (!_live.TryGetValue(a.Job.Id, out var owner) || !IsBoundTo(owner.Job, site.Spec.Id)) return false;
        return true;
    }

    /// <summary>Whether the job holds GPUs at the site, as its record says.</summary>
    private static bool IsBoundTo(JobState? job, string siteId) => job is { HoldsGpus: true } && job.SiteId == siteId;

    /// <summary>
    /// Takes a job's record into the catalogue and the live set. A job that has ended stays ended: creates and cancels
    /// interleave with the tick, so a record read before a cancel can arrive after it. New jobs and jobs that just
    /// ended are marked for writing; other changes stay in memory (the job grains store them).
    /// </summary>
    private void Track(JobRecord record)
    {
        var job = record.State;
        var known = _catalog.Find(job.Id);
        if (known is not null && known.State.IsTerminal && !job.IsTerminal) return;
        var tracked = _live.TryGetValue(job.Id, out var before);
        if (tracked && before.Job.HoldsGpus && !(job.HoldsGpus && job.SiteId == before.Job.SiteId)) _waiting.CapacityRose();
        _held.Track(tracked ? before.Job : null, job);
        var summary = new JobSummary(job, record.Region, record.CreatedAt, record.Ledger, record.TraceParent);
        if (known != summary) _catalog.Set(summary, persist: job.IsTerminal && known?.State.IsTerminal != true);
        if (job.Status is JobStatus.Queued or JobStatus.Paused) _waiting.Waits(job.Id);
        else
        {
            _waiting.Leaves(job.Id);
            _lastDeferral.Remove(job.Id);
        }
        if (job.Status != JobStatus.Queued) _arrivedAt.Remove(job.Id);
        if (job.IsTerminal)
        {
            _live.Remove(job.Id);
            _traceParents.Remove(job.Id);
        }
        else
        {
            // A job that holds no GPUs has no count; one that does keeps its count (a count of an older epoch is then
            // ignored where it is applied).
            _live[job.Id] = job.HoldsGpus ? before with { Job = job } : new LiveJob(job, null, default);
            if (record.TraceParent is { } traceParent) _traceParents[job.Id] = traceParent;
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Decision {Kind} job {JobId}: {From} -> {To} ({Reason}): {Detail}")]
    private partial void LogDecision(DecisionKind kind, string jobId, string? from, string to, string reason, string detail);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Decision {Kind} for job {JobId} refused: {Why}")]
    private partial void LogDecisionRefused(DecisionKind kind, string jobId, string why);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Decision {Kind} for job {JobId} to {To} dropped: another round changed the job or took the GPUs first")]
    private partial void LogDecisionDropped(DecisionKind kind, string jobId, string to);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Prompt dispatch round failed; the next trigger or tick tries again")]
    private partial void LogPromptRoundFailed(Exception ex);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Decision log write failed again; its jobs' sites are told once a tick stores it")]
    private partial void LogDecisionLogWriteFailed(Exception ex);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Reconciled {Count} site/job mismatches")]
    private partial void LogReconciled(int count);
}
