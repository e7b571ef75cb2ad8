namespace Scheduler.Grains;

using System.Diagnostics;
using Microsoft.Extensions.Options;
using Scheduler.Core.Accounting;
using Scheduler.Core.Lifecycle;
using Scheduler.Core.Model;
using Scheduler.Core.Policy;
using Scheduler.Core.Power;
using Scheduler.Grains.Execution;
using Scheduler.Grains.Hosting;

[GenerateSerializer]
public sealed class SiteGrainState
{
    [Id(0)] public SiteSpec? Spec { get; set; }
    [Id(1)] public double StateOfChargeMegawattHours { get; set; }
    [Id(2)] public DateTimeOffset? SteppedAt { get; set; }
    [Id(3)] public EnergyLedger Ledger { get; set; }
    [Id(4)] public Dictionary<string, JobAssignment> Jobs { get; set; } = new(StringComparer.Ordinal);
    /// <summary>Highest epoch seen per job: commands from older epochs are refused.</summary>
    [Id(5)] public Dictionary<string, long> Epochs { get; set; } = new(StringComparer.Ordinal);
    [Id(6)] public Dictionary<string, PlantOutput> Plants { get; set; } = new(StringComparer.Ordinal);
    [Id(7)] public SiteStepResultSummary? Last { get; set; }
    /// <summary>Each plant's output before its latest, so a step is credited with what held during it.</summary>
    [Id(8)] public Dictionary<string, PlantOutput> PreviousPlants { get; set; } = new(StringComparer.Ordinal);
    /// <summary>The site's agent, once one has attached; null: the built-in clock executor runs the site's jobs.</summary>
    [Id(9)] public SiteAgentState? Agent { get; set; }
    /// <summary>The last change of the site's journal this state holds: later ones are applied on load (<see cref="SiteJournal"/>).</summary>
    [Id(10)] public long JournalSequence { get; set; }
    /// <summary>
    /// The site's count of each running job's current epoch, once it has stepped the job; before that, the job's
    /// assignment holds it (<see cref="JobAssignment.Counted"/>). Counts are values, updated in place every step and
    /// stored as one value (<see cref="EpochCounts"/>). Folding them into new assignments and job states at each write
    /// kept those alive, referenced from this long-lived state, until the next write: at 10,000 jobs, a tenth of what
    /// young collections copied (docs/performance.md, session 22).
    /// </summary>
    [Id(11)] public EpochCounts Counts { get; set; } = new();
}

/// <summary>The last step's power balance, kept for status queries.</summary>
[GenerateSerializer, Immutable]
public sealed record SiteStepResultSummary(
    [property: Id(0)] double GreenSupplyMegawatts,
    [property: Id(1)] double LoadMegawatts,
    [property: Id(2)] double BatteryMegawatts,
    [property: Id(3)] double GridImportMegawatts,
    [property: Id(4)] double CurtailmentMegawatts,
    [property: Id(5)] double ShortfallMegawatts,
    [property: Id(6)] PowerBalanceMode Mode = PowerBalanceMode.Balanced);

/// <summary>
/// A site's microgrid: sums its plants' fresh output, runs the power balance over each step, credits its running jobs.
/// It calls no other grain: progress goes back to the dispatcher in the step report. What runs the jobs is its
/// executor (<see cref="ISiteExecutor"/>): the clock, or the site's agent once one has attached.
/// </summary>
/// <remarks>
/// What is stored is a snapshot of the whole state and a journal of the starts and releases since (see
/// <see cref="RecordAsync"/>): a start at a site running hundreds of jobs writes one job, not all of them.
/// </remarks>
public sealed class SiteGrain(
    [PersistentState("site")] IPersistentState<SiteGrainState> state,
    SchedulerClock clock,
    IOptions<SchedulerOptions> options) : Grain, ISiteGrain
{
    private SiteGrainState S => state.State;
    private TaskCompletionSource _agentCommandsChanged = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>The lowest green supply since the dispatcher last heard it (a step, a rise or a fall), MW; a rise is measured from it.</summary>
    private double _supplyLowSinceTold = double.PositiveInfinity;

    /// <summary>The highest green supply since the dispatcher last heard it, MW; a fall is measured from it.</summary>
    private double _supplyHighSinceTold = double.NegativeInfinity;

    /// <summary>Whether the last step asked for supply rises (prompt dispatch on, and jobs waiting in the region).</summary>
    private bool _tellSupplyRises;

    /// <summary>When the state was last written (scheduler time): step state is written behind, at most <c>ProgressPersistInterval</c> apart.</summary>
    private DateTimeOffset _lastWrite;

    private SiteJournal _journal = null!;

    /// <summary>
    /// The step's working buffers, kept from step to step and cleared after each: every site steps every tick, and
    /// arrays made per step were a third of what the scheduler allocated at the scale of the performance issue.
    /// </summary>
    private JobAssignment[] _running = [];
    private JobLoad[] _loads = [];
    private JobStepShare[] _shares = [];

    /// <summary>
    /// Whether the stored snapshot and journal hold the state as it is now, so that a start or release can be stored
    /// as one more change: false once a step has changed the state without writing it (it is written behind), and
    /// while a write has failed (what is stored is then not known) until the next snapshot.
    /// </summary>
    private bool _journalable;

    private ISiteExecutor Executor => S.Agent is { } agent ? Agent(agent) : ClockExecutor.Instance;

    private AgentExecutor Agent(SiteAgentState agent) => new(agent, options.Value.AgentReconnectGrace, SignalAgentCommands);

    private void SignalAgentCommands()
    {
        var changed = _agentCommandsChanged;
        _agentCommandsChanged = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        changed.TrySetResult();
    }

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        // As if written at a random point of the last interval: sites activated together then write their steps at
        // different ticks, not all at the same one. Any write restarts the interval (it stores the steps too).
        _lastWrite = StaggeredSchedule.Start(clock.GetUtcNow(), options.Value.ProgressPersistInterval, Random.Shared.NextDouble());
        (_journal, var changes) = await SiteJournal.LoadAsync(OwnRecords.Storage(ServiceProvider), this.GetGrainId(), S.JournalSequence);
        foreach (var change in changes) change.ApplyTo(S);
        _journalable = true;
    }

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        if (S.Spec is not null) await WriteAsync(clock.GetUtcNow());
    }

    public async Task ConfigureAsync(SiteSpec spec)
    {
        var errors = spec.Validate();
        if (errors.Count > 0) throw new ArgumentException(string.Join("; ", errors), nameof(spec));
        var first = S.Spec is null;
        S.Spec = spec;
        S.StateOfChargeMegawattHours = first
            ? spec.Battery.MinEnergyMegawattHours
            : Math.Clamp(S.StateOfChargeMegawattHours, spec.Battery.MinEnergyMegawattHours, spec.Battery.MaxEnergyMegawattHours);
        await WriteAsync(clock.GetUtcNow());
    }

    public Task<SiteStatus?> GetAsync() => Task.FromResult(S.Spec is null ? null : Status(clock.GetUtcNow()));

    public Task UpdatePlantOutputAsync(PlantOutput output)
    {
        // Kept in memory and written with the site's next write: a lost sample is replaced by the plant's next one.
        if (output.NameplateMegawatts <= 0)
        {
            S.Plants.Remove(output.PlantId);
            S.PreviousPlants.Remove(output.PlantId);
        }
        else if (S.Plants.TryGetValue(output.PlantId, out var latest) && output.At < latest.At)
        {
            return Task.CompletedTask; // overtaken by a newer output (the call is one-way): stale
        }
        else
        {
            if (latest is not null && latest.At < output.At) S.PreviousPlants[output.PlantId] = latest;
            S.Plants[output.PlantId] = output;
        }
        if (S.Spec is { } spec && output.ReceivedAt is { } receivedAt) TellSupplyChange(spec, receivedAt);
        return Task.CompletedTask;
    }

    /// <summary>
    /// Tells the dispatcher when supply rose notably above its low since the dispatcher last heard it (if asked to:
    /// jobs wait in the region), or fell notably below its high and below the site's load (if jobs run here): what a
    /// prompt round or a deficit round can act on. Smaller changes wait for the tick.
    /// </summary>
    private void TellSupplyChange(SiteSpec spec, DateTimeOffset receivedAt)
    {
        var mayFall = options.Value.PromptDispatch && S.Jobs.Count > 0 && S.Last is not null;
        if (!_tellSupplyRises && !mayFall) return;
        var (supply, _, _) = Supply(clock.GetUtcNow());
        var nameplate = 0.0;
        foreach (var p in S.Plants.Values) nameplate += p.NameplateMegawatts;
        var notable = options.Value.SupplyChangeFraction * nameplate;
        var dispatcher = GrainFactory.Get<IDispatcherGrain>(spec.Region);
        if (_tellSupplyRises && supply - _supplyLowSinceTold >= notable)
            dispatcher.SupplyRoseAsync(new SiteSupplyChange(spec.Id, supply, receivedAt)).Ignore();
        else if (mayFall && _supplyHighSinceTold - supply >= notable && supply < S.Last!.LoadMegawatts)
            dispatcher.SupplyFellAsync(new SiteSupplyChange(spec.Id, supply, receivedAt)).Ignore();
        else
        {
            _supplyLowSinceTold = Math.Min(_supplyLowSinceTold, supply);
            _supplyHighSinceTold = Math.Max(_supplyHighSinceTold, supply);
            return;
        }
        _supplyLowSinceTold = _supplyHighSinceTold = supply;
    }

    public async Task<SiteStepReport> StepAsync(DateTimeOffset now, bool tellSupplyRises = false)
    {
        _tellSupplyRises = tellSupplyRises;
        if (S.Spec is not { } spec) throw new InvalidOperationException($"site '{this.GetPrimaryKeyString()}' is not configured");
        // Step state is written behind: a change journaled after this step would be replayed onto the older stored
        // step, so the next start or release writes the snapshot instead.
        _journalable = false;
        if (S.SteppedAt is not { } from || now <= from)
        {
            S.SteppedAt ??= now;
            return new SiteStepReport(Told(Status(now)), [], []);
        }

        using var span = SchedulerDiagnostics.Source.StartActivity(SchedulerDiagnostics.SiteStepSpan);
        span?.SetTag(SchedulerDiagnostics.Tags.Site, spec.Id);
        var hours = (now - from).TotalHours;
        // The power balance holds the supply seen at the start of the step (zero-order hold) over the whole step.
        var (supply, celsius, price) = Supply(from);
        var executor = Executor;
        // Jobs the executor can no longer run (an agent gone past its grace, a failed process) leave the site first.
        var lost = executor.TakeLost(S.Jobs.Values, now);
        foreach (var l in lost)
        {
            S.Jobs.Remove(l.JobId);
            S.Counts.Remove(l.JobId);
        }
        var n = 0;
        EnsureRoom(ref _running, S.Jobs.Count);
        foreach (var a in S.Jobs.Values)
            if (a.ArrivesAt is null) _running[n++] = a;
        EnsureRoom(ref _loads, n);
        EnsureRoom(ref _shares, n);
        for (var i = 0; i < n; i++) _loads[i] = executor.Load(_running[i].Job, CountOf(_running[i]).RemainingGpuHours, hours);
        var result = SiteStep.Run(spec, supply, celsius, S.StateOfChargeMegawattHours, price, _loads.AsSpan(0, n), hours, _shares);

        S.StateOfChargeMegawattHours = result.Balance.StateOfChargeMegawattHours;
        S.Ledger += result.SiteLedger;
        var mode = result.Balance.Mode;
        // Operators see the microgrid change mode (charging ↔ discharging, curtailing, importing, shortfall) on the step.
        if (span is not null && S.Last is { } previous && previous.Mode != mode)
            span.AddEvent(new ActivityEvent("scheduler.power.mode_changed", tags: new ActivityTagsCollection
            {
                [SchedulerDiagnostics.Tags.ModeFrom] = previous.Mode.ToString(),
                [SchedulerDiagnostics.Tags.ModeTo] = mode.ToString(),
            }));
        S.Last = new SiteStepResultSummary(supply, result.LoadMegawatts, result.Balance.DischargeMegawatts - result.Balance.ChargeMegawatts,
            result.Balance.GridImportMegawatts, result.Balance.CurtailmentMegawatts, result.Balance.ShortfallMegawatts, mode);

        var progress = new JobProgress[n];
        var completed = false;
        for (var i = 0; i < n; i++)
        {
            var share = _shares[i];
            var job = _running[i].Job;
            var count = JobLifecycle.Progress(job, CountOf(_running[i]), share.GpuHours, share.Ledger);
            progress[i] = new JobProgress(job.Id, count);
            if (count.IsComplete)
            {
                S.Jobs.Remove(job.Id);
                S.Counts.Remove(job.Id);
                executor.Completed(job.Id);
                completed = true;
            }
            else S.Counts[job.Id] = count;
        }
        // The buffers keep no job alive past its step.
        Array.Clear(_running, 0, n);
        Array.Clear(_loads, 0, n);
        Array.Clear(_shares, 0, n);

        // Checkpoints that finished their transfer during the step start running from the next one.
        var landed = new List<string>();
        foreach (var a in S.Jobs.Values.Where(a => a.ArrivesAt is { } t && t <= now).ToList())
        {
            var job = JobLifecycle.CompleteTransfer(a.Job, now);
            S.Jobs[a.Job.Id] = a with { Job = job, ArrivesAt = null };
            executor.Run(job);
            landed.Add(a.Job.Id);
        }

        S.SteppedAt = now;
        // A change of what runs here is written at once. Counts, charge and ledgers are written behind: every site
        // writing every step queued prompt rounds' writes behind 150 of them each tick. A crash redoes the unwritten
        // steps, which credits no job twice, because progress reports are cumulative per epoch (EpochProgress).
        if (completed || landed.Count > 0 || lost.Count > 0 || StaggeredSchedule.IsDue(_lastWrite, options.Value.ProgressPersistInterval, now))
            await WriteAsync(now);
        return new SiteStepReport(Told(Status(now)), progress, landed, lost.Count == 0 ? null : lost);
    }

    /// <summary>Writes the snapshot: the whole state, with every change journaled so far and every job's latest count.</summary>
    private async Task WriteAsync(DateTimeOffset now)
    {
        _journalable = false;
        S.JournalSequence = _journal.Sequence;
        await state.WriteStateAsync();
        _journal.Snapshotted(S.JournalSequence);
        _journalable = true;
        _lastWrite = now;
    }

    /// <summary>
    /// Stores starts and releases, already applied to the state, as one write: one journal slot when the stored state
    /// is the state less those changes, otherwise (after an unwritten step, at a site run by an agent, whose executor
    /// state the changes also moved, or with the journal full) the snapshot. Either way, stored before it answers.
    /// </summary>
    private async Task RecordAsync(SiteJobChange[] changes)
    {
        if (changes.Length == 0) return;
        if (!_journalable || S.Agent is not null || !_journal.HasRoom)
        {
            await WriteAsync(clock.GetUtcNow());
            return;
        }
        _journalable = false;
        await _journal.AppendAsync(changes);
        _journalable = true;
    }

    /// <summary>Grows <paramref name="buffer"/> to hold at least <paramref name="count"/> items (what it held is not kept).</summary>
    private static void EnsureRoom<T>(ref T[] buffer, int count)
    {
        if (buffer.Length < count) buffer = new T[Math.Max(count, buffer.Length * 2)];
    }

    /// <summary>The site's count of a bound job's current epoch: its own, once it has stepped the job, or else as the assignment holds it.</summary>
    private EpochProgress CountOf(JobAssignment assignment) =>
        S.Counts.TryGetValue(assignment.Job.Id, out var count) && count.Epoch == assignment.Job.Epoch ? count : assignment.Counted;

    /// <summary>A status on its way to the dispatcher: the supply it shows is where the next rise or fall is measured from.</summary>
    private SiteStatus Told(SiteStatus status)
    {
        _supplyLowSinceTold = _supplyHighSinceTold = status.GreenSupplyMegawatts;
        return status;
    }

    public async Task<SiteJobResults> ChangeJobsAsync(SiteJobCommands commands)
    {
        var changes = new List<SiteJobChange>(commands.Releases.Length + commands.Starts.Length);
        var releases = new ReleaseOutcome[commands.Releases.Length];
        for (var i = 0; i < releases.Length; i++)
        {
            var r = commands.Releases[i];
            releases[i] = Release(r.JobId, r.Epoch, r.KeepState, changes);
        }
        var refusals = new string?[commands.Starts.Length];
        for (var i = 0; i < refusals.Length; i++)
        {
            try { changes.Add(Start(commands.Starts[i])); }
            catch (Exception ex) when (ex is StaleEpochException or InvalidOperationException) { refusals[i] = ex.Message; }
        }
        await RecordAsync([.. changes]);
        return new SiteJobResults(releases, refusals);
    }

    public async Task StartJobAsync(JobAssignment assignment) => await RecordAsync([Start(assignment)]);

    public async Task<bool> StopJobAsync(string jobId, long epoch) =>
        (await ChangeJobsAsync(new SiteJobCommands([new JobRelease(jobId, epoch, KeepState: false)], []))).Releases[0] != ReleaseOutcome.Stale;

    public async Task<bool> CheckpointJobAsync(string jobId, long epoch) =>
        (await ChangeJobsAsync(new SiteJobCommands([new JobRelease(jobId, epoch, KeepState: true)], []))).Releases[0] == ReleaseOutcome.Checkpointing;

    /// <summary>Binds a job in the state and its executor; throws <see cref="StaleEpochException"/> or <see cref="InvalidOperationException"/> if refused.</summary>
    private SiteJobChange Start(JobAssignment assignment)
    {
        if (S.Spec is not { } spec) throw new InvalidOperationException($"site '{this.GetPrimaryKeyString()}' is not configured");
        var job = assignment.Job;
        if (S.Epochs.TryGetValue(job.Id, out var known) && known > job.Epoch)
            throw new StaleEpochException($"site {spec.Id} already saw epoch {known} of job {job.Id}; refused epoch {job.Epoch}");
        var used = 0;
        foreach (var a in S.Jobs.Values)
            if (a.Job.Id != job.Id) used += a.Job.Spec.Gpus;
        if (used + job.Spec.Gpus > spec.GpuCount)
            throw new InvalidOperationException($"site {spec.Id} has {spec.GpuCount - used} free GPUs; job {job.Id} needs {job.Spec.Gpus}");
        // The same placement told again (its checkpoint arrived, or a reconcile): only what the record knows of the
        // checkpoint is news; the site's own progress count is newer than the record's.
        if (S.Jobs.TryGetValue(job.Id, out var held) && held.Job.Epoch == job.Epoch)
            assignment = held with { Job = held.Job with { CheckpointReference = job.CheckpointReference, CheckpointPending = job.CheckpointPending } };
        var change = new SiteJobChange(job.Id, job.Epoch, assignment);
        change.ApplyTo(S);
        if (assignment.ArrivesAt is null) Executor.Run(assignment.Job);
        return change;
    }

    /// <summary>Lets go of a job in the state and its executor, adding the change to <paramref name="changes"/>; a stale epoch changes nothing.</summary>
    private ReleaseOutcome Release(string jobId, long epoch, bool keepState, List<SiteJobChange> changes)
    {
        if (S.Epochs.TryGetValue(jobId, out var known) && known > epoch) return ReleaseOutcome.Stale;
        var change = new SiteJobChange(jobId, epoch, Started: null);
        change.ApplyTo(S);
        Executor.Release(jobId, epoch, keepState);
        changes.Add(change);
        return keepState && S.Agent is { } agent && agent.Jobs.TryGetValue(jobId, out var a) && a.Phase == AgentJobPhase.Checkpointing
            ? ReleaseOutcome.Checkpointing : ReleaseOutcome.Released;
    }

    public async Task<string> AttachAgentAsync(AgentHello hello)
    {
        if (S.Spec is null) throw new KeyNotFoundException($"no site '{this.GetPrimaryKeyString()}'");
        var first = S.Agent is null;
        S.Agent ??= new SiteAgentState();
        var agent = Agent(S.Agent);
        var session = agent.Attach(hello);
        // A site that was run by the clock hands its running jobs to the agent (they start from their checkpoint, if any).
        if (first)
            foreach (var a in S.Jobs.Values.Where(a => a.ArrivesAt is null)) agent.Run(a.Job);
        await WriteAsync(clock.GetUtcNow());
        return session;
    }

    public async Task DetachAgentAsync(string session)
    {
        if (S.Agent is not { } agent || agent.Session != session) return;
        Agent(agent).Detach(session, clock.GetUtcNow());
        await WriteAsync(clock.GetUtcNow());
    }

    public async Task<bool> ReportAgentAsync(string session, AgentReport report)
    {
        if (S.Agent is not { } agent || agent.Session != session)
            throw new AgentSessionEndedException($"session {session} of site {this.GetPrimaryKeyString()} has ended");
        var accepted = Agent(agent).Report(report);
        // Progress is frequent and recomputed from the agent's next report after a crash: only state changes are written.
        if (accepted && report.Kind != AgentReportKind.Progress) await WriteAsync(clock.GetUtcNow());
        return accepted;
    }

    public async Task<IReadOnlyList<AgentCommand>> WaitForAgentCommandsAsync(string session, long afterSequence, TimeSpan maxWait, CancellationToken cancellationToken = default)
    {
        var pending = CommandsAfter(session, afterSequence);
        if (pending.Count > 0) return pending;
        var changed = _agentCommandsChanged.Task;
        await Task.WhenAny(changed, Task.Delay(maxWait, cancellationToken)).ConfigureAwait(true);
        return CommandsAfter(session, afterSequence);
    }

    private List<AgentCommand> CommandsAfter(string session, long afterSequence)
    {
        if (S.Agent is not { } agent || agent.Session != session)
            throw new AgentSessionEndedException($"session {session} of site {this.GetPrimaryKeyString()} has ended");
        return agent.Commands.Values.Where(c => c.Sequence > afterSequence).OrderBy(c => c.Sequence).ToList();
    }

    private (double Megawatts, double Celsius, double PriceCnyPerKwh) Supply(DateTimeOffset at)
    {
        var stale = options.Value.PlantStaleAfter;
        double mw = 0, weighted = 0, nameplate = 0;
        double? celsius = null;
        DateTimeOffset newest = DateTimeOffset.MinValue;
        foreach (var latest in S.Plants.Values)
        {
            // A sample newer than `at` did not hold yet at `at`: the one before it did (the step that just ended
            // must not be credited with the output reported for its end).
            var p = latest.At > at && S.PreviousPlants.TryGetValue(latest.PlantId, out var previous) && previous.At <= at ? previous : latest;
            nameplate += p.NameplateMegawatts;
            weighted += p.NameplateMegawatts * p.GreenPriceCnyPerKilowattHour;
            if (at - p.At > stale) continue; // silent plant: counts as 0 MW
            mw += p.Megawatts;
            if (p.OutsideCelsius is { } c && p.At >= newest) { celsius = c; newest = p.At; }
        }
        var price = nameplate > 0 ? weighted / nameplate : PlantSpec.DefaultGreenPriceCnyPerKilowattHour;
        return (mw, celsius ?? options.Value.DefaultOutsideCelsius, price);
    }

    /// <summary>Sum of the plants' forecasts, each held at its latest point (or current output) between points.</summary>
    private IReadOnlyList<ForecastPoint> Forecast(DateTimeOffset now)
    {
        var plants = S.Plants.Values.Where(p => now - p.At <= options.Value.PlantStaleAfter).ToList();
        if (plants.Count == 0 || plants.All(p => p.Forecast.Count == 0)) return [];
        var times = plants.SelectMany(p => p.Forecast.Select(f => f.At)).Where(t => t >= now).Distinct().Order().ToList();
        return times.Select(t => new ForecastPoint(t, plants.Sum(p =>
        {
            var value = p.Megawatts;
            foreach (var f in p.Forecast) { if (f.At > t) break; value = f.GreenSupplyMegawatts; }
            return value;
        }))).ToList();
    }

    private SiteStatus Status(DateTimeOffset now)
    {
        var spec = S.Spec!;
        var (supply, celsius, _) = Supply(now);
        var last = S.Last;
        var load = last?.LoadMegawatts ?? spec.BaseLoadFacilityMegawatts(celsius);
        return new SiteStatus(spec, S.SteppedAt, supply, load, last?.BatteryMegawatts ?? 0, S.StateOfChargeMegawattHours,
            last?.GridImportMegawatts ?? 0, last?.CurtailmentMegawatts ?? 0, last?.ShortfallMegawatts ?? 0, celsius,
            S.Jobs.Values.ToList(), S.Ledger, S.Plants.Values.ToList(), Forecast(now), options.Value.PlantStaleAfter,
            last?.GreenSupplyMegawatts ?? 0, S.Agent is { } agent ? Agent(agent).Status() : null);
    }
}
