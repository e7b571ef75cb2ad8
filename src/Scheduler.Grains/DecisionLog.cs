namespace Scheduler.Grains;

using Orleans.Storage;

/// <summary>The stored form of a <see cref="DecisionLog"/>: the jobs it holds, as they took their decisions.</summary>
[GenerateSerializer]
public sealed class DecisionLogRecord
{
    [Id(0)] public LoggedJob[] Jobs { get; set; } = [];
}

/// <summary>
/// A dispatcher's decision log: the jobs a wave of decisions changed, each as it took its decision, stored in one write
/// (state name <c>dispatcher.decisions</c> of the dispatcher's grain id) before any site is told. Each job then stores
/// its own record (<see cref="IJobGrain.PersistAsync"/>). A wave of a hundred decisions was a hundred record writes,
/// one after another in the storage's one writer, before the first site heard of any; now it is one. See docs/adr/0009.
/// </summary>
/// <remarks>
/// A write holds the new wave's jobs and every job of earlier writes not yet known to have stored its own record, so
/// overwriting the record loses none. On activation the dispatcher has each job of the log store itself again: a job
/// whose own write a crash lost takes the log's copy, and any other is left as it is. A write that fails leaves its
/// jobs' decisions in memory only (<see cref="IsWritten"/>): no site may hear of them until a later write stores them.
/// Not thread-safe: it belongs to one dispatcher activation, whose waves run one at a time.
/// </remarks>
internal sealed class DecisionLog
{
    public const string StateName = "dispatcher.decisions";

    private readonly IGrainStorage _storage;
    private readonly GrainId _owner;
    private readonly GrainState<DecisionLogRecord> _record;
    /// <summary>Logged jobs, by id, whose own record is not yet known to hold what the log holds.</summary>
    private readonly Dictionary<string, LoggedJob> _unpersisted;
    /// <summary>Ids of jobs given to a write that failed, until a write succeeds: their decisions are in memory only.</summary>
    private readonly HashSet<string> _unwritten = new(StringComparer.Ordinal);

    private DecisionLog(IGrainStorage storage, GrainId owner, GrainState<DecisionLogRecord> record)
    {
        _storage = storage;
        _owner = owner;
        _record = record;
        _unpersisted = (record.State?.Jobs ?? []).ToDictionary(j => j.Record.State.Id, StringComparer.Ordinal);
    }

    /// <summary>The logged jobs not yet known to have stored their own records (after loading: every job of the log).</summary>
    public IReadOnlyCollection<LoggedJob> Unpersisted => _unpersisted.Values;

    public static async Task<DecisionLog> LoadAsync(IGrainStorage storage, GrainId owner)
    {
        var record = new GrainState<DecisionLogRecord>(new DecisionLogRecord());
        await storage.ReadStateAsync(StateName, owner, record);
        return new DecisionLog(storage, owner, record);
    }

    /// <summary>Whether every job given to a write is stored (no write failed since the last one that succeeded).</summary>
    public bool AllWritten => _unwritten.Count == 0;

    /// <summary>Whether the job's logged decision, if any, is stored: false after a failed write, until one succeeds.</summary>
    public bool IsWritten(string jobId) => !_unwritten.Contains(jobId);

    /// <summary>
    /// Stores <paramref name="jobs"/>, with the jobs of earlier writes not yet persisted, in one write. If it throws,
    /// the jobs stay unwritten (<see cref="IsWritten"/>) and the next write, with or without new jobs, tries them again.
    /// </summary>
    public async Task WriteAsync(IEnumerable<LoggedJob> jobs)
    {
        foreach (var job in jobs)
        {
            _unpersisted[job.Record.State.Id] = job;
            _unwritten.Add(job.Record.State.Id);
        }
        _record.State = new DecisionLogRecord { Jobs = [.. _unpersisted.Values] };
        await _storage.WriteStateAsync(StateName, _owner, _record);
        _unwritten.Clear();
    }

    /// <summary>The job has stored its own record, holding <paramref name="job"/> or newer: the next write leaves it out.</summary>
    public void Persisted(LoggedJob job) => _unpersisted.Remove(job.Record.State.Id);
}
