namespace Scheduler.Grains.Tests;

using CsCheck;

public class WaitingJobsTests
{
    /// <summary>
    /// Random interleavings of what the dispatcher tells its waiting jobs: whatever full rounds start in between, a job
    /// that no prompt round has taken since it began waiting (or since its decision was dropped) is in the next prompt
    /// round; and a prompt round takes only waiting jobs, every one of them after a capacity rise.
    /// </summary>
    [Fact]
    public void APromptRound_TakesEveryJobNoPromptRoundHasDecidedOn_WhateverFullRoundsCameBetween()
    {
        Gen.Select(Gen.Int[0, 6], Gen.Int[0, 7]).Array[1, 200].Sample(operations =>
        {
            var waiting = new WaitingJobs();
            var isWaiting = new HashSet<string>();
            var owed = new HashSet<string>(); // waiting, and not taken by a prompt round since
            var rose = false;
            foreach (var (kind, n) in operations)
            {
                var job = $"j{n}";
                switch (kind)
                {
                    case 0:
                        if (isWaiting.Add(job)) owed.Add(job);
                        waiting.Waits(job);
                        break;
                    case 1:
                        isWaiting.Remove(job);
                        owed.Remove(job);
                        waiting.Leaves(job);
                        break;
                    case 2:
                        if (isWaiting.Contains(job)) owed.Add(job);
                        waiting.DecideAgain(job);
                        break;
                    case 3:
                        rose = true;
                        waiting.CapacityRose();
                        break;
                    case 4:
                        rose = false;
                        waiting.FullRoundStarted();
                        break;
                    default:
                        Assert.Equal(rose ? isWaiting.Count > 0 : owed.Count > 0, waiting.AnyToDecide);
                        var taken = waiting.TakeForPromptRound().ToHashSet();
                        Assert.Subset(isWaiting, taken);
                        Assert.Superset(rose ? isWaiting : owed, taken);
                        owed.Clear();
                        rose = false;
                        break;
                }
                Assert.Equal(isWaiting.Count, waiting.Count);
            }
        });
    }

    [Fact]
    public void ANewJob_MayNotStart_UntilItsCatalogueEntryIsStored()
    {
        var waiting = new WaitingJobs();
        waiting.Arriving("new");
        waiting.Waits("new");
        waiting.Waits("old");

        Assert.False(waiting.MayStart("new"));
        Assert.True(waiting.MayStart("old"));
        waiting.Stored("new");
        Assert.True(waiting.MayStart("new"));
    }
}
