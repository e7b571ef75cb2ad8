namespace Scheduler.Grains.Tests;

/// <summary>A job's record keeps its newest <c>Scheduler:JobHistoryLimit</c> events (500 by default), in order.</summary>
[Collection(ClusterCollection.Name)]
public sealed class JobHistoryTests(ClusterFixture fixture)
{
    [Fact]
    public async Task AJobsHistory_KeepsItsNewestEventsUpToTheLimit_InOrder()
    {
        var fleet = new TestFleet(fixture);
        var job = fixture.Client.GetGrain<IJobGrain>((await fleet.SubmitAsync(fleet.Job("long-lived"))).State.Id);
        const int limit = 500, deferrals = limit + 5;
        // Two reasons in turn: a deferral for the same reason as the last event is not recorded again.
        for (var i = 0; i < deferrals; i++)
        {
            var record = await job.RecordDeferralAsync(i % 2 == 0 ? "no-surplus" : "no-gpus", $"deferral {i}", fleet.Now);
            Assert.Equal(Math.Min(i + 2, limit), record.History.Count); // its creation and the deferrals so far
        }

        var history = (await job.GetAsync())!.History;
        Assert.Equal(limit, history.Count);
        Assert.Equal(Enumerable.Range(deferrals + 1 - limit + 1, limit).Select(s => (long)s), history.Select(e => e.Sequence));
        Assert.Equal($"deferral {deferrals - 1}", history[^1].Detail);
    }
}
