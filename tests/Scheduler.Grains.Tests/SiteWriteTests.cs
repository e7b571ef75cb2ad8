namespace Scheduler.Grains.Tests;

using Scheduler.Core.Lifecycle;

/// <summary>
/// A site writes every change of what runs there before it answers (its step state is written behind; see
/// <see cref="ProgressCountTests"/>): a start or stop it has acknowledged survives its loss, however many arrive at once.
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
        var jobs = Enumerable.Range(0, 60)
            .Select(i => new JobState(fleet.Job($"j{i}", gpus: 10), JobStatus.Running, siteId, 0, fleet.Now, null, 1)).ToList();

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
}
