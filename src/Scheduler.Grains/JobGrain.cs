namespace Scheduler.Grains;

using System.Diagnostics;
using Microsoft.Extensions.Options;
using Scheduler.Core.Accounting;
using Scheduler.Core.Lifecycle;
using Scheduler.Core.Model;
using Scheduler.Core.Policy;
using Scheduler.Grains.Hosting;

[GenerateSerializer]
public sealed class JobGrainState
{
    [Id(0)] public JobRecord? Record { get; set; }
    /// <summary>What the record has credited of the job's current epoch (written with the record, so the two agree).</summary>
    [Id(1)] public EpochCredit? Credit { get; set; }
}

/// <summary>
/// The durable record of one job and the single source of truth for where it runs. Every placement change is stored
/// before the sites are told, so a crash can leave a site behind the record (the dispatcher reconciles it) but never a
/// job running where its record does not say. A dispatcher's decision is stored first in the dispatcher's decision log,
/// one write for a wave of them, and then in the record (<see cref="PersistAsync"/>; docs/adr/0009).
/// </summary>
public sealed class JobGrain(
    [PersistentState("job")] IPersistentState<JobGrainState> state,
    IOptions<SchedulerOptions> options) : Grain, IJobGrain
{
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    /// <summary>The job's own point of the progress write-behind interval (<see cref="StaggeredSchedule"/>), from its first count here.</summary>
    private DateTimeOffset? _progressWrittenAt;
    /// <summary>Whether the record holds a decision (<see cref="ApplyAsync"/>) that only the dispatcher's log has stored.</summary>
    private bool _decisionUnwritten;
    /// <summary>The sequence of the last event the stored record holds: a decision's log entry carries only the events after it.</summary>
    private long _writtenEvent;

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _writtenEvent = state.State.Record is { } record ? LastEvent(record) : 0;
        return Task.CompletedTask;
    }

    private JobRecord Record => state.State.Record ?? throw new KeyNotFoundException($"job '{this.GetPrimaryKeyString()}' does not exist");

    public async Task<JobRecord> CreateAsync(JobSpec spec, string requestId, string region)
    {
        if (state.State.Record is { } existing)
        {
            if (existing.RequestId != requestId || requestId.Length == 0)
                throw new JobConflictException($"job '{spec.Id}' already exists (created by request '{existing.RequestId}')");
            if (!SameAsk(existing.State.Spec, spec))
                throw new JobConflictException($"request '{requestId}' was already used for a different job ('{spec.Id}')");
            return existing; // a retry of the same create
        }
        var errors = spec.Validate();
        if (errors.Count > 0) throw new ArgumentException(string.Join("; ", errors), nameof(spec));
        var job = JobState.Queued(spec);
        // Each job gets a trace of its own, rooted here and linked to the create request: every later decision about
        // the job is a span in it, so sampling the (many) requests never loses a job's story.
        var request = Activity.Current;
        Activity.Current = null;
        using var root = SchedulerDiagnostics.Source.StartActivity(SchedulerDiagnostics.JobSpan, ActivityKind.Internal, default(ActivityContext),
            links: request is null ? null : [new ActivityLink(request.Context)]);
        Activity.Current = request;
        root?.SetTag(SchedulerDiagnostics.Tags.JobId, spec.Id);
        root?.SetTag(SchedulerDiagnostics.Tags.Tenant, spec.TenantId);
        // History is an array (here and in Append): Orleans has a codec for arrays, but not for the compiler's types
        // behind a collection expression, so it searched its codecs (with reflection) on every write of the record.
        var record = new JobRecord(job, requestId, region, spec.Arrival, default,
            (JobEvent[])[new JobEvent(1, spec.Arrival, JobStatus.Queued, "created", null, null, "submitted", $"{spec.Gpus} GPUs, {spec.WorkGpuHours} GPU-hours", root?.TraceId.ToHexString())],
            root?.Id);
        await SaveAsync(record);
        return record;
    }

    public Task<JobRecord?> GetAsync() => Task.FromResult(state.State.Record);

    public async Task<JobDecisionTaken> ApplyAsync(Decision decision, EnergyLedger cost, DateTimeOffset now, EpochProgress? counted = null)
    {
        var record = Record;
        if (counted is { } count)
        {
            record = Credited(record, count, now);
            // Done before the decision: the completion is recorded, and the lifecycle refuses the decision below.
            if (record.State.Status == JobStatus.Completed) await SaveAsync(record);
        }
        var before = record.State;
        var after = JobLifecycle.Apply(before, decision, now);
        var kind = decision.Kind switch
        {
            DecisionKind.Place => "placed",
            DecisionKind.Relocate => "relocating",
            DecisionKind.Pause => "paused",
            _ => after.Status == JobStatus.Relocating ? "relocating" : "resumed",
        };
        // Not written here: the dispatcher logs a wave's decisions in one write, then has each job store its own.
        var taken = Append(record with { State = after, Ledger = record.Ledger + cost },
            now, kind, decision.FromSiteId, decision.ToSiteId, decision.Reason, decision.Detail);
        state.State.Record = taken;
        _decisionUnwritten = true;
        Notify();
        // The old site lets go before the new one binds the job, so the job is never bound to two.
        var leaves = before.HoldsGpus && before.SiteId is { } old && (old != after.SiteId || !after.HoldsGpus) ? old : null;
        // The log carries the events the stored record lacks, not the whole history: a wave of them is one write.
        var unwritten = taken with { History = (JobEvent[])[.. taken.History.Where(e => e.Sequence > _writtenEvent)] };
        return new JobDecisionTaken(taken, leaves, new LoggedJob(unwritten, state.State.Credit));
    }

    public async Task PersistAsync(LoggedJob logged)
    {
        var current = state.State.Record;
        if (current is null || LastEvent(current) < LastEvent(logged.Record))
        {
            // Lost in a crash after the log was written: the job as logged, after the events it had stored.
            var first = logged.Record.History.Count == 0 ? long.MaxValue : logged.Record.History[0].Sequence;
            state.State.Credit = logged.Credit;
            await SaveAsync(logged.Record with { History = Limited([.. current?.History.Where(e => e.Sequence < first) ?? [], .. logged.Record.History]) });
        }
        else if (_decisionUnwritten) await SaveAsync(current, notify: false);
    }

    private static long LastEvent(JobRecord record) => record.History.Count == 0 ? 0 : record.History[^1].Sequence;

    public async Task<JobRecord> AwaitCheckpointAsync(long epoch, DateTimeOffset now)
    {
        var record = Record;
        if (record.State.Epoch != epoch) return record;
        await SaveAsync(record with { State = JobLifecycle.AwaitCheckpoint(record.State) }, notify: false);
        return Record;
    }

    public async Task<JobRecord> RecordProgressAsync(JobProgress progress, DateTimeOffset now)
    {
        var record = Record;
        var next = Credited(record, progress.Counted, now);
        if (next == record) return record;
        if (next.State.Status == JobStatus.Completed) await SaveAsync(next);
        else
        {
            state.State.Record = next;
            // Progress is frequent: written behind. After a crash of this grain alone, its site's next count (cumulative)
            // brings it back; after a crash of both, at most ProgressPersistInterval of it is redone. At the job's own
            // point of the interval: jobs created together would otherwise write together, 10,000 at the bench's scale.
            var interval = options.Value.ProgressPersistInterval;
            var last = _progressWrittenAt ??= StaggeredSchedule.Start(now, interval, Random.Shared.NextDouble());
            if (StaggeredSchedule.IsDue(last, interval, now))
            {
                await SaveAsync(next, notify: false);
                _progressWrittenAt = StaggeredSchedule.Next(last, interval, now);
            }
        }
        return Record;
    }

    /// <summary>The record with a site's count credited (and the credit taken into the state), or the same record if the count adds nothing.</summary>
    private JobRecord Credited(JobRecord record, EpochProgress counted, DateTimeOffset now)
    {
        var (after, ledger, credit) = JobLifecycle.Credit(record.State, record.Ledger, state.State.Credit, counted, now);
        if (credit == state.State.Credit) return record;
        state.State.Credit = credit;
        var next = record with { State = after, Ledger = ledger };
        return after.Status == JobStatus.Completed
            ? Append(next, now, "completed", after.SiteId, after.SiteId, "work-done", $"all {after.Spec.WorkGpuHours} GPU-hours done")
            : next;
    }

    public async Task<JobRecord> CompleteTransferAsync(DateTimeOffset now)
    {
        var record = Record;
        var after = JobLifecycle.CompleteTransfer(record.State, now);
        if (after == record.State) return record;
        await SaveAsync(Append(record with { State = after }, now, "landed", null, after.SiteId, "transfer-done", "checkpoint restored"));
        return Record;
    }

    public async Task<JobRecord> RecordCheckpointAsync(string siteId, string? reference, long bytes, long epoch, DateTimeOffset now)
    {
        var record = Record;
        var after = JobLifecycle.RecordCheckpoint(record.State, reference, epoch);
        if (after == record.State) return record;
        var detail = string.IsNullOrEmpty(reference)
            ? $"the checkpoint at {siteId} failed; the job restores from {record.State.CheckpointReference ?? "its start"}"
            : $"{bytes} bytes at {siteId}: {reference}";
        await SaveAsync(Append(record with { State = after }, now, "checkpointed", siteId, after.SiteId,
            string.IsNullOrEmpty(reference) ? "checkpoint-failed" : "checkpoint-written", detail));
        // The site the job is bound to now may have been waiting for this checkpoint to start it.
        if (after.HoldsGpus && after.SiteId is { } site)
            await GrainFactory.Get<ISiteGrain>(site).StartJobAsync(new JobAssignment(after, after.TransferEndsAt));
        return Record;
    }

    public async Task<JobRecord> RecordLostAsync(string siteId, LostJob lost, DateTimeOffset now)
    {
        var record = Record;
        var job = record.State;
        if (job.HoldsGpus && job.SiteId == siteId && job.Epoch == lost.Epoch)
        {
            var after = lost.Failed ? JobLifecycle.Fail(job, now) : JobLifecycle.Lose(job, now);
            await SaveAsync(Append(record with { State = after }, now, lost.Failed ? "failed" : "lost", siteId, null,
                lost.Failed ? "process-failed" : "agent-lost",
                $"{lost.Reason}; {(lost.Failed ? "the job failed" : $"queued again, to restore from {after.CheckpointReference ?? "its start"}")}"));
            return Record;
        }
        // Not where the job runs now: a checkpoint it was taking there will never come.
        return job.CheckpointPending ? await RecordCheckpointAsync(siteId, null, 0, lost.Epoch, now) : record;
    }

    public async Task<JobRecord> RecordDeferralAsync(string reason, string detail, DateTimeOffset now)
    {
        var record = Record;
        if (record.State.Status is not (JobStatus.Queued or JobStatus.Paused)) return record;
        if (record.History.Count > 0 && record.History[^1] is { Kind: "deferred" } last && last.Reason == reason) return record;
        await SaveAsync(Append(record, now, "deferred", record.State.SiteId, null, reason, detail));
        return Record;
    }

    public async Task<JobRecord> CancelAsync(DateTimeOffset now, string reason)
    {
        var record = Record;
        var before = record.State;
        var after = JobLifecycle.Cancel(before, now);
        await SaveAsync(Append(record with { State = after }, now, "cancelled", before.SiteId, null, "cancelled", reason));
        if (before.HoldsGpus && before.SiteId is { } site)
            await GrainFactory.Get<ISiteGrain>(site).StopJobAsync(after.Id, after.Epoch);
        return Record;
    }

    public async Task<IReadOnlyList<JobEvent>> WaitForEventsAsync(long afterSequence, TimeSpan maxWait, CancellationToken cancellationToken = default)
    {
        var pending = NewerThan(afterSequence);
        if (pending.Count > 0 || state.State.Record is null || Record.State.IsTerminal) return pending;
        var changed = _changed.Task;
        await Task.WhenAny(changed, Task.Delay(maxWait, cancellationToken)).ConfigureAwait(true);
        return NewerThan(afterSequence);
    }

    /// <summary>Whether two specs ask for the same job (arrival is the server's receipt time, so it may differ).</summary>
    private static bool SameAsk(JobSpec a, JobSpec b) =>
        a with { Arrival = default, AllowedSites = [] } == b with { Arrival = default, AllowedSites = [] }
        && a.AllowedSites.SequenceEqual(b.AllowedSites, StringComparer.Ordinal);

    private List<JobEvent> NewerThan(long sequence) =>
        state.State.Record?.History.Where(e => e.Sequence > sequence).ToList() ?? [];

    private JobRecord Append(JobRecord record, DateTimeOffset at, string kind, string? from, string? to, string reason, string detail)
    {
        var history = record.History;
        var next = new JobEvent(history.Count == 0 ? 1 : history[^1].Sequence + 1, at, record.State.Status, kind, from, to, reason, detail, CurrentTraceId);
        return record with { History = Limited([.. history, next]) };
    }

    /// <summary>The newest <c>JobHistoryLimit</c> of <paramref name="events"/>, oldest first.</summary>
    private JobEvent[] Limited(JobEvent[] events)
    {
        var limit = options.Value.JobHistoryLimit;
        return events.Length > limit ? events[^limit..] : events;
    }

    private static string? CurrentTraceId => Activity.Current?.TraceId.ToHexString();

    private async Task SaveAsync(JobRecord record, bool notify = true)
    {
        state.State.Record = record;
        await state.WriteStateAsync();
        _decisionUnwritten = false;
        _writtenEvent = LastEvent(record);
        if (notify) Notify();
    }

    /// <summary>Wakes whoever waits for the job's next event (<see cref="WaitForEventsAsync"/>).</summary>
    private void Notify()
    {
        var changed = _changed;
        _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        changed.TrySetResult();
    }
}
