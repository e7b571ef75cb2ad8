namespace Scheduler.Grains.Tests;

using CsCheck;
using Scheduler.Core.Lifecycle;

/// <summary>
/// A site stores every change of what runs there before it answers (its step state is written behind; see
/// <see cref="ProgressCountTests"/>): a start or stop it has acknowledged survives its loss, however many arrive at
/// once. A start or stop, or a round's starts and stops at the site together, is stored as one write of the site's
/// journal, not by writing every job at the site.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class SiteWriteTests(ClusterFixture fixture)
{
    [Fact]
    public async Task StartsAndStopsArrivingTogether_AreEachWrittenBeforeTheyAnswer()
    {
        var fleet = new TestFleet(fixture);
        var siteId = await fleet.AddSiteAsync("busy");
        var site = fleet.Client.GetGrain<ISiteGrain>(siteId);
        var jobs = Enumerable.Range(0, 60).Select(i => Running(fleet, siteId, $"j{i}", gpus: 10)).ToList();

        await Task.WhenAll(jobs.Take(40).Select(j => site.StartJobAsync(new JobAssignment(j, null))));
        Assert.Equal(jobs.Take(40).Select(j => j.Id).Order(), (await fixture.StoredSiteAsync(siteId)).State!.Jobs.Keys.Order());
        // Stops and starts at once.
        await Task.WhenAll(jobs.Take(20).Select(j => site.StopJobAsync(j.Id, j.Epoch))
            .Concat(jobs.Skip(40).Select(j => site.StartJobAsync(new JobAssignment(j, null)))));

        var stored = await fixture.StoredSiteAsync(siteId);
        var expected = jobs.Skip(20).Select(j => j.Id).Order().ToList();
        Assert.Equal(expected, stored.State!.Jobs.Keys.Order());
        Assert.Equal(expected, (await site.GetAsync())!.Jobs.Select(a => a.Job.Id).Order());
        Assert.Equal(60, stored.State.Epochs.Count);
    }

    [Fact]
    public async Task Starts_GoToTheJournal_AndTheSnapshotIsWrittenOnlyWhenTheJournalIsFull()
    {
        var fleet = new TestFleet(fixture);
        var siteId = await fleet.AddSiteAsync("journaled");
        var site = fleet.Client.GetGrain<ISiteGrain>(siteId);
        var configured = await fixture.StoredSiteAsync(siteId);

        for (var i = 0; i < SiteJournal.Slots; i++) await site.StartJobAsync(new JobAssignment(Running(fleet, siteId, $"j{i}"), null));

        var journaled = await fixture.StoredSiteAsync(siteId);
        Assert.Equal(configured.ETag, journaled.ETag); // the snapshot was not written
        Assert.Equal(SiteJournal.Slots, journaled.State!.Jobs.Count);

        await site.StartJobAsync(new JobAssignment(Running(fleet, siteId, "one-more"), null));

        var snapshot = await fixture.StoredSiteAsync(siteId);
        Assert.NotEqual(configured.ETag, snapshot.ETag);
        Assert.Equal(SiteJournal.Slots + 1, snapshot.State!.Jobs.Count);
        Assert.Equal(SiteJournal.Slots, snapshot.State.JournalSequence);
    }

    [Fact]
    public async Task ARoundsChangesAtASite_AreOneJournalWrite_AndEachRefusalIsReportedWithoutUndoingTheOthers()
    {
        var fleet = new TestFleet(fixture);
        var siteId = await fleet.AddSiteAsync("waves", gpus: 100);
        var site = fleet.Client.GetGrain<ISiteGrain>(siteId);
        var jobs = Enumerable.Range(0, 8).Select(i => Running(fleet, siteId, $"j{i}", gpus: 10)).ToList();
        foreach (var j in jobs.Take(6)) await site.StartJobAsync(new JobAssignment(j, null));
        var owner = site.GetGrainId();
        var before = (await SiteJournal.LoadAsync(fixture.Storage, owner, 0)).Journal.Sequence;

        var results = await site.ChangeJobsAsync(new SiteJobCommands(
            [new JobRelease(jobs[0].Id, 2, KeepState: true), new JobRelease(jobs[1].Id, 2, KeepState: false), new JobRelease(jobs[2].Id, 0, KeepState: true)],
            [new JobAssignment(jobs[6], null), new JobAssignment(jobs[0], null), new JobAssignment(Running(fleet, siteId, "big", gpus: 60), null), new JobAssignment(jobs[7], null)]));

        Assert.Equal([ReleaseOutcome.Released, ReleaseOutcome.Released, ReleaseOutcome.Stale], results.Releases);
        Assert.Null(results.StartRefusals[0]);
        Assert.Contains("already saw epoch 2", results.StartRefusals[1]); // released at epoch 2 just before
        Assert.Contains("free GPUs", results.StartRefusals[2]); // 60 on top of 60 of 100
        Assert.Null(results.StartRefusals[3]);
        var (journal, changes) = await SiteJournal.LoadAsync(fixture.Storage, owner, 0);
        Assert.Equal(before + 1, journal.Sequence);
        Assert.Equal([jobs[0].Id, jobs[1].Id, jobs[6].Id, jobs[7].Id], changes.TakeLast(4).Select(c => c.JobId));

        var expected = new[] { 2, 3, 4, 5, 6, 7 }.Select(i => jobs[i].Id).Order().ToList();
        Assert.Equal(expected, (await site.GetAsync())!.Jobs.Select(a => a.Job.Id).Order());
        await fixture.CrashSiteAsync(siteId);
        Assert.Equal(expected, (await site.GetAsync())!.Jobs.Select(a => a.Job.Id).Order());
    }

    [Fact]
    public async Task AStartAfterAnUnwrittenStep_WritesTheSnapshot_SoItIsNotReplayedBeforeThatStep()
    {
        var fleet = new TestFleet(fixture);
        var siteId = await fleet.AddSiteAsync("stepped");
        var site = fleet.Client.GetGrain<ISiteGrain>(siteId);
        await site.StartJobAsync(new JobAssignment(Running(fleet, siteId, "first"), null));
        await site.StepAsync(fleet.Now);
        var steppedAt = fleet.Now + TimeSpan.FromSeconds(1);
        await site.StepAsync(steppedAt); // written behind
        Assert.NotEqual(steppedAt, (await fixture.StoredSiteAsync(siteId)).State!.SteppedAt);

        await site.StartJobAsync(new JobAssignment(Running(fleet, siteId, "second"), null));

        var stored = await fixture.StoredSiteAsync(siteId);
        Assert.Equal(steppedAt, stored.State!.SteppedAt);
        Assert.Equal(2, stored.State!.Jobs.Count);
    }

    [Fact]
    public async Task AJournalWithAGap_IsRefusedOnLoad_RatherThanLoadedWithoutTheMissingChange()
    {
        var owner = fixture.Client.GetGrain<ISiteGrain>("journal-gap-" + Guid.NewGuid().ToString("N")).GetGrainId();
        var job = new JobState(new TestFleet(fixture).Job("j"), JobStatus.Running, "s", 1e6, ClusterFixture.Start, null, 1);
        foreach (var sequence in new long[] { 1, 3 }) // change 2 is missing
            await fixture.Storage.WriteStateAsync(SiteJournal.SlotStateName((int)(sequence % SiteJournal.Slots)), owner,
                new GrainState<SiteJournalSlot>(new SiteJournalSlot { Sequence = sequence, Change = new SiteJobChange(job.Id, 1, new JobAssignment(job, null)) }));

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => SiteJournal.LoadAsync(fixture.Storage, owner, snapshotSequence: 0));
        Assert.Contains("skips from write 1 to 3", error.Message);
        Assert.Single((await SiteJournal.LoadAsync(fixture.Storage, owner, snapshotSequence: 2)).Changes); // change 3 alone follows a snapshot of 2
    }

    /// <summary>
    /// Whatever mix of starts, restarts at a new epoch, stops, stale stops and steps a site is given, a crash at any
    /// point leaves it, once loaded again, holding exactly the jobs and epochs it had acknowledged.
    /// </summary>
    [Fact]
    public async Task ASiteThatCrashes_LoadsExactlyTheJobsAndEpochsItAcknowledged()
    {
        // Half the samples have no steps, so that runs of changes fill the journal and wrap around its slots.
        var operations = Gen.Select(Gen.Int[0, 99].Array[40, 120], Gen.Bool);
        var sample = 0;
        await operations.SampleAsync(async (ops, steps) =>
        {
            var fleet = new TestFleet(fixture);
            var siteId = await fleet.AddSiteAsync($"s{Interlocked.Increment(ref sample)}");
            var site = fleet.Client.GetGrain<ISiteGrain>(siteId);
            var bound = new Dictionary<string, long>(); // the model: job name → epoch bound at the site
            var epochs = new Dictionary<string, long>(); // job name → latest epoch the site saw
            var at = fleet.Now;
            var next = 0;
            foreach (var op in ops)
            {
                var some = bound.Count == 0 ? null : bound.Keys.Order(StringComparer.Ordinal).ElementAt(op % bound.Count);
                switch (op)
                {
                    case < 55 and >= 40 when some is not null: // the same job placed again, at its next epoch
                        var epoch = bound[some] + 1;
                        await site.StartJobAsync(new JobAssignment(Running(fleet, siteId, some, epoch), null));
                        bound[some] = epochs[some] = epoch;
                        break;
                    case < 75 and >= 55 when some is not null:
                        Assert.True(await site.StopJobAsync(fleet.Id(some), bound[some]));
                        epochs[some] = bound[some];
                        bound.Remove(some);
                        break;
                    case < 40 and >= 30 when some is not null: // a round's changes at once: one job moves away, two arrive
                        var away = bound[some] + 1;
                        var (first, second) = ($"j{next++}", $"j{next++}");
                        var results = await site.ChangeJobsAsync(new SiteJobCommands([new JobRelease(fleet.Id(some), away, KeepState: true)],
                            [new JobAssignment(Running(fleet, siteId, first, epoch: 1), null), new JobAssignment(Running(fleet, siteId, second, epoch: 1), null)]));
                        Assert.Equal([ReleaseOutcome.Released], results.Releases);
                        Assert.All(results.StartRefusals, Assert.Null);
                        epochs[some] = away;
                        bound.Remove(some);
                        bound[first] = epochs[first] = bound[second] = epochs[second] = 1;
                        break;
                    case < 80 and >= 75 when some is not null:
                        Assert.False(await site.StopJobAsync(fleet.Id(some), bound[some] - 1)); // stale: changes nothing
                        break;
                    case < 95 and >= 80 when steps:
                        at += TimeSpan.FromSeconds(10 + op * 7); // some steps pass the 5-minute write-behind mark
                        await site.StepAsync(at);
                        break;
                    case >= 95:
                        await fixture.CrashSiteAsync(siteId);
                        await AssertHoldsAsync();
                        break;
                    default:
                        var id = $"j{next++}";
                        await site.StartJobAsync(new JobAssignment(Running(fleet, siteId, id, epoch: 1), null));
                        bound[id] = epochs[id] = 1;
                        break;
                }
            }
            await fixture.CrashSiteAsync(siteId);
            await AssertHoldsAsync();

            async Task AssertHoldsAsync()
            {
                var status = (await site.GetAsync())!;
                Assert.Equal(Listed(bound.ToDictionary(kv => fleet.Id(kv.Key), kv => kv.Value)), Listed(status.Jobs.ToDictionary(a => a.Job.Id, a => a.Job.Epoch)));
                Assert.Equal(Listed(epochs.ToDictionary(kv => fleet.Id(kv.Key), kv => kv.Value)), Listed((await fixture.StoredSiteAsync(siteId)).State!.Epochs));
            }
        }, iter: 25, threads: 1);
    }

    /// <summary>
    /// A site's counts live beside its jobs' assignments: whatever starts (at the same or a new epoch) and releases are
    /// applied, live or replayed from the journal, every count left is of a job bound at the count's epoch.
    /// </summary>
    [Fact]
    public void AppliedChanges_LeaveOnlyCountsOfJobsBoundAtTheCountsEpoch()
    {
        var fleet = new TestFleet(fixture);
        Gen.Select(Gen.Int[0, 3], Gen.Int[0, 2], Gen.Int[1, 3]).Array[1, 40].Sample(ops =>
        {
            var state = new SiteGrainState();
            foreach (var (kind, job, epoch) in ops)
            {
                var id = $"j{job}";
                switch (kind)
                {
                    case 0: new SiteJobChange(id, epoch, new JobAssignment(Running(fleet, "s", id, epoch), null)).ApplyTo(state); break;
                    case 1: new SiteJobChange(id, epoch, Started: null).ApplyTo(state); break;
                    default: // a step counts a bound job
                        if (state.Jobs.TryGetValue(id, out var a)) state.Counts[id] = new EpochProgress(a.Job.Epoch, epoch, default);
                        break;
                }
                Assert.All(state.Counts, c => Assert.Equal(c.Value.Epoch, state.Jobs.GetValueOrDefault(c.Key)?.Job.Epoch));
            }
        });
    }

    private static IEnumerable<string> Listed(IReadOnlyDictionary<string, long> epochs) =>
        epochs.Select(kv => $"{kv.Key}@{kv.Value}").Order(StringComparer.Ordinal);

    private static JobState Running(TestFleet fleet, string siteId, string name, long epoch = 1, int gpus = 1) =>
        new(fleet.Job(name, gpus: gpus, workGpuHours: 1e6), JobStatus.Running, siteId, 1e6, fleet.Now, null, epoch);
}
