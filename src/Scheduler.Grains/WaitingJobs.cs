namespace Scheduler.Grains;

/// <summary>
/// A region's waiting jobs (queued or paused) as the dispatcher's rounds take them: which a prompt round decides on,
/// and which no round may start yet. Prompt rounds own the "not yet decided" mark; the tick's full round leaves it.
/// </summary>
/// <remarks>
/// <para>A prompt round decides on the jobs no prompt round has decided on since they began waiting (or since their
/// decision was dropped), or on every waiting job once GPUs were freed or supply rose. Otherwise the region's capacity
/// has only shrunk since a round left the others waiting, and every start filter is monotone in a site's load, so that
/// round's answer stands (a property test in the core holds the policy to this). At 80,000 queued jobs, rounds over all
/// of them ran back to back with the creates and took the CPU the tick needed.</para>
/// <para>A full round that starts does not mark the new jobs decided: its round over 10,000 jobs decides about 10 ms
/// later than a prompt round over one, and when it took the mark, the job that came in just before it waited for the
/// tick (p50 13 ms at the scale of the performance issue, docs/performance.md). Both rounds then decide on it; the
/// first to apply places it and the other's decision is dropped (<c>StillHolds</c>).</para>
/// <para>A new job may start only once it is in the stored catalogue: one placed before that could run where a
/// restarted dispatcher never looks. Its prompt round is triggered after the write; the tick's round may have seen it
/// before.</para>
/// </remarks>
internal sealed class WaitingJobs
{
    private readonly HashSet<string> _waiting = new(StringComparer.Ordinal);
    private readonly HashSet<string> _undecided = new(StringComparer.Ordinal);
    private readonly HashSet<string> _unstored = new(StringComparer.Ordinal);
    private bool _capacityRose;

    public int Count => _waiting.Count;

    public bool Contains(string jobId) => _waiting.Contains(jobId);

    /// <summary>Whether a prompt round has anything to decide on.</summary>
    public bool AnyToDecide => (_capacityRose ? _waiting : _undecided).Count > 0;

    /// <summary>The job is queued or paused now (again, or still).</summary>
    public void Waits(string jobId)
    {
        if (_waiting.Add(jobId)) _undecided.Add(jobId);
    }

    /// <summary>The job runs, moves or has ended.</summary>
    public void Leaves(string jobId)
    {
        _waiting.Remove(jobId);
        _undecided.Remove(jobId);
    }

    /// <summary>A decision on the job was dropped or refused: the next prompt round decides on it again.</summary>
    public void DecideAgain(string jobId)
    {
        if (_waiting.Contains(jobId)) _undecided.Add(jobId);
    }

    /// <summary>GPUs were freed or a site's supply rose: a job a round left waiting may fit now.</summary>
    public void CapacityRose() => _capacityRose = true;

    /// <summary>A new job, from now until its catalogue entry is stored (<see cref="Stored"/>).</summary>
    public void Arriving(string jobId) => _unstored.Add(jobId);

    public void Stored(string jobId) => _unstored.Remove(jobId);

    /// <summary>Whether a round's decision to start the job may be applied: not while its catalogue entry is unwritten.</summary>
    public bool MayStart(string jobId) => !_unstored.Contains(jobId);

    /// <summary>The jobs a prompt round decides on (see the remarks); from here on they count as decided.</summary>
    public IReadOnlyList<string> TakeForPromptRound()
    {
        var jobs = (_capacityRose ? _waiting : _undecided).ToList();
        _capacityRose = false;
        _undecided.Clear();
        return jobs;
    }

    /// <summary>
    /// A full round has copied the region, with every waiting job at the capacity there is now: a rise before it needs
    /// no prompt round over every job. The jobs no prompt round has decided on stay marked (see the remarks).
    /// </summary>
    public void FullRoundStarted() => _capacityRose = false;
}
