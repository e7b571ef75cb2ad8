namespace Scheduler.Grains;

using System.Globalization;
using Orleans.Storage;

/// <summary>A job bound to a site (<see cref="Started"/>) or released from it (null), at an epoch.</summary>
[GenerateSerializer, Immutable]
public sealed record SiteJobChange(
    [property: Id(0)] string JobId,
    [property: Id(1)] long Epoch,
    [property: Id(2)] JobAssignment? Started)
{
    /// <summary>Binds or releases the job in a site's state, as the site did when it made the change; a count of an epoch the job is no longer bound at goes.</summary>
    public void ApplyTo(SiteGrainState site)
    {
        site.Epochs[JobId] = Epoch;
        if (Started is { } assignment) site.Jobs[JobId] = assignment;
        else site.Jobs.Remove(JobId);
        if (site.Counts.TryGetValue(JobId, out var count) && count.Epoch != Started?.Job.Epoch) site.Counts.Remove(JobId);
    }
}

/// <summary>One stored slot of a site's journal: the changes stored together, and their place in the site's sequence of writes.</summary>
[GenerateSerializer]
public sealed class SiteJournalSlot
{
    [Id(0)] public long Sequence { get; set; }
    /// <summary>The one change of a slot written before slots held several; read, no longer written.</summary>
    [Id(1)] public SiteJobChange? Change { get; set; }
    /// <summary>The changes, in the order they were made (an array: Orleans has a codec for arrays).</summary>
    [Id(2)] public SiteJobChange[]? Changes { get; set; }

    public IEnumerable<SiteJobChange> All => Changes ?? (Change is { } one ? [one] : []);
}

/// <summary>
/// The starts and releases a site made since it last wrote its whole state (its snapshot), each write of them stored in
/// a slot of its own (state name <c>site.journal.NN</c> of the site's grain id), so that a start writes one job, not
/// every job at the site; changes made while a write was in flight are stored together in one slot. A site loads its
/// snapshot, then applies the slots after the snapshot's <c>JournalSequence</c>, in order. See docs/adr/0008.
/// </summary>
/// <remarks>
/// Write n goes to slot n mod <see cref="Slots"/>. The site writes its snapshot before a write would overwrite a slot
/// that is newer than the snapshot, so the slots always hold every change since the snapshot; a slot older than the
/// snapshot is left as it is and skipped on load. Not thread-safe: it belongs to one site activation.
/// </remarks>
internal sealed class SiteJournal
{
    /// <summary>
    /// Journal writes between two snapshots at most. A start alone costs one change plus a snapshot's share: at 450 jobs
    /// a site that only starts jobs writes about 1 + 450/32 = 15 jobs per start instead of 450. More slots would cost
    /// an activation more reads.
    /// </summary>
    public const int Slots = 32;

    private readonly IGrainStorage _storage;
    private readonly GrainId _owner;
    private readonly GrainState<SiteJournalSlot>[] _slots;
    private long _snapshotSequence;

    private SiteJournal(IGrainStorage storage, GrainId owner, GrainState<SiteJournalSlot>[] slots, long snapshotSequence, long sequence)
    {
        _storage = storage;
        _owner = owner;
        _slots = slots;
        _snapshotSequence = snapshotSequence;
        Sequence = sequence;
    }

    /// <summary>The last journal write's sequence number (the snapshot's, if none came after it).</summary>
    public long Sequence { get; private set; }

    /// <summary>Whether another journal write fits before the snapshot must be written.</summary>
    public bool HasRoom => Sequence - _snapshotSequence < Slots;

    public static string SlotStateName(int slot) => "site.journal." + slot.ToString("D2", CultureInfo.InvariantCulture);

    /// <summary>Reads every slot; returns the journal and the changes after <paramref name="snapshotSequence"/>, in order.</summary>
    public static async Task<(SiteJournal Journal, IReadOnlyList<SiteJobChange> Changes)> LoadAsync(IGrainStorage storage, GrainId owner, long snapshotSequence)
    {
        var slots = new GrainState<SiteJournalSlot>[Slots];
        for (var i = 0; i < Slots; i++)
        {
            slots[i] = new GrainState<SiteJournalSlot>(new SiteJournalSlot());
            await storage.ReadStateAsync(SlotStateName(i), owner, slots[i]);
        }
        var after = slots.Select(s => s.State).Where(s => s is not null && s.All.Any() && s.Sequence > snapshotSequence).OrderBy(s => s!.Sequence).ToList();
        // Written in order, one at a time, each only once the one before it was stored: a gap means a bad record.
        for (var i = 0; i < after.Count; i++)
            if (after[i]!.Sequence != snapshotSequence + i + 1)
                throw new InvalidOperationException($"journal of {owner} skips from write {snapshotSequence + i} to {after[i]!.Sequence}");
        var sequence = after.Count == 0 ? snapshotSequence : after[^1]!.Sequence;
        return (new SiteJournal(storage, owner, slots, snapshotSequence, sequence), after.SelectMany(s => s!.All).ToList());
    }

    /// <summary>Stores the next changes, in the order made, as one write. Only when <see cref="HasRoom"/>.</summary>
    public async Task AppendAsync(SiteJobChange[] changes)
    {
        if (!HasRoom) throw new InvalidOperationException("the journal is full: the snapshot must be written first");
        Sequence++;
        var index = (int)(Sequence % Slots);
        _slots[index].State = new SiteJournalSlot { Sequence = Sequence, Changes = changes };
        await _storage.WriteStateAsync(SlotStateName(index), _owner, _slots[index]);
    }

    /// <summary>The snapshot now holds every change up to <paramref name="sequence"/>.</summary>
    public void Snapshotted(long sequence) => _snapshotSequence = sequence;
}
