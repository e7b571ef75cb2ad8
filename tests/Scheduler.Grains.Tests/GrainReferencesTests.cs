namespace Scheduler.Grains.Tests;

/// <summary>References made from the cached grain and interface types are the references Orleans makes.</summary>
[Collection(ClusterCollection.Name)]
public sealed class GrainReferencesTests(ClusterFixture fixture)
{
    [Fact]
    public async Task Get_MakesTheSameReferenceAsGetGrain_AndItWorks()
    {
        var client = fixture.Client;
        foreach (var key in new[] { "a", "b", "job-with-dashes" })
        {
            Assert.Equal(client.GetGrain<IJobGrain>(key), client.Get<IJobGrain>(key));
            Assert.Equal(client.GetGrain<IDispatcherGrain>(key), client.Get<IDispatcherGrain>(key));
            Assert.Equal(client.GetGrain<IJobGrain>(key).GetGrainId(), client.Get<IJobGrain>(key).GetGrainId());
        }
        // Two interfaces with the same key are different grains; the cache is per interface.
        Assert.NotEqual(client.Get<IJobGrain>("x").GetGrainId(), client.Get<IDispatcherGrain>("x").GetGrainId());
        Assert.Null(await client.Get<IJobGrain>("no-such-job").GetAsync());
        Assert.NotNull(await client.Get<IFleetGrain>(IFleetGrain.Key).GetConfigAsync());
    }
}
