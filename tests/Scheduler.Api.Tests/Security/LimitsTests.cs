namespace Scheduler.Api.Tests.Security;

using Google.Protobuf.WellKnownTypes;
using Google.Rpc;
using Grpc.Core;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;
using Scheduler.Api.Security;
using Scheduler.Api.V1;

/// <summary>Rate and concurrency limits per principal and call class, on a host of its own with small limits.</summary>
public class LimitsTests
{
    private static Task<SchedulerHost> StartAsync(params (string Key, string Value)[] settings) =>
        SchedulerHost.StartFreshAsync(b => b.Configuration.AddInMemoryCollection(settings.Select(s => KeyValuePair.Create($"Scheduler:Limits:{s.Key}", (string?)s.Value))));

    private static GenerationSample Sample(SchedulerHost host, string plant, int i) =>
        new() { PlantId = plant, Megawatts = 1, Time = Timestamp.FromDateTimeOffset(host.Time.GetUtcNow().AddMilliseconds(i)) };

    /// <summary>
    /// A plant floods telemetry until refused; meanwhile a tenant's job calls and an operator's fleet calls all succeed:
    /// each class has its own buckets.
    /// </summary>
    [Fact]
    public async Task ATelemetryFlood_IsRateLimited_WhileJobAndFleetCallsStillSucceed()
    {
        await using var host = await StartAsync(("Telemetry:PermitsPerSecond", "5"), ("Telemetry:Burst", "10"), ("ApplyToOperators", "true"));
        var plant = new TelemetryService.TelemetryServiceClient(host.ChannelAs(CallerIdentity.ForPlant("baotou-wind")));
        var tenant = new JobService.JobServiceClient(host.ChannelAs(CallerIdentity.ForTenant("flood-victim")));
        var fleet = new FleetService.FleetServiceClient(host.Channel);

        using var stop = new CancellationTokenSource();
        var refused = new List<RpcException>();
        var flood = Task.Run(async () =>
        {
            for (var i = 0; !stop.IsCancellationRequested; i++)
            {
                try { await plant.ReportGenerationAsync(Sample(host, "baotou-wind", i)); }
                catch (RpcException ex) when (ex.StatusCode == StatusCode.ResourceExhausted) { lock (refused) refused.Add(ex); }
            }
        });
        var created = 0;
        // Job and fleet calls go on while the flood runs, until the flood has been refused (and at least 20 rounds).
        for (var i = 0; i < 20 || (refused.Count == 0 && i < 2000); i++)
        {
            await tenant.CreateJobAsync(new CreateJobRequest { Job = new JobSpec { Gpus = 8, WorkGpuHours = 8 } });
            await fleet.GetFleetAsync(new GetFleetRequest());
            created++;
        }
        stop.Cancel();
        await flood;

        Assert.True(created >= 20);
        Assert.NotEmpty(refused);
        var retry = refused[0].GetRpcStatus()?.GetDetail<RetryInfo>();
        Assert.NotNull(retry);
        Assert.True(retry.RetryDelay.ToTimeSpan() > TimeSpan.Zero);
    }

    [Fact]
    public async Task AStreamOverTheRate_DropsAndCountsTheExcessSamples_AndGoesOn()
    {
        await using var host = await StartAsync(("Telemetry:PermitsPerSecond", "1"), ("Telemetry:Burst", "3"));
        using var call = new TelemetryService.TelemetryServiceClient(host.ChannelAs(CallerIdentity.ForPlant("baotou-wind"))).PushGeneration();
        for (var i = 0; i < 20; i++) await call.RequestStream.WriteAsync(Sample(host, "baotou-wind", i));
        await call.RequestStream.CompleteAsync();
        var reply = await call;

        Assert.Equal(20, reply.Accepted + reply.Rejected);
        Assert.InRange(reply.Accepted, 3, 5); // the burst, and at most a refill or two while the stream ran
        Assert.All(reply.Rejections, r => Assert.StartsWith("RESOURCE_EXHAUSTED", r.Description));
    }

    [Fact]
    public async Task ARateLimitedCall_IsResourceExhaustedWithRetryInfo_AndCreatesNothing()
    {
        await using var host = await StartAsync(("Jobs:PermitsPerSecond", "2"), ("Jobs:Burst", "2"));
        var tenant = new JobService.JobServiceClient(host.ChannelAs(CallerIdentity.ForTenant("rate-limited")));
        RpcException? refused = null;
        for (var i = 0; i < 10 && refused is null; i++)
        {
            var before = await StateProbe.TakeAsync(host);
            try { await tenant.CreateJobAsync(new CreateJobRequest { Job = new JobSpec { Gpus = 8, WorkGpuHours = 8 } }); }
            catch (RpcException ex)
            {
                refused = ex;
                Assert.Equal(before, await StateProbe.TakeAsync(host));
            }
        }
        Assert.NotNull(refused);
        Assert.Equal(StatusCode.ResourceExhausted, refused.StatusCode);
        Assert.NotNull(refused.GetRpcStatus()?.GetDetail<RetryInfo>());
        // Another principal's bucket is its own.
        await new JobService.JobServiceClient(host.ChannelAs(CallerIdentity.ForTenant("someone-else"))).ListJobsAsync(new ListJobsRequest());
    }

    [Fact]
    public async Task ConcurrentCalls_AboveTheCap_AreResourceExhausted()
    {
        await using var host = await StartAsync(("Jobs:MaxConcurrentCalls", "1"));
        var tenant = new JobService.JobServiceClient(host.ChannelAs(CallerIdentity.ForTenant("watcher")));
        var job = await tenant.CreateJobAsync(new CreateJobRequest { Job = new JobSpec { Gpus = 8, WorkGpuHours = 8 } });
        using var watch = tenant.WatchJob(new WatchJobRequest { Id = job.Id });
        Assert.True(await watch.ResponseStream.MoveNext()); // the watch holds the tenant's only slot

        var ex = await Assert.ThrowsAsync<RpcException>(async () => await tenant.GetJobAsync(new GetJobRequest { Id = job.Id }));
        Assert.Equal(StatusCode.ResourceExhausted, ex.StatusCode);
        Assert.NotNull(ex.GetRpcStatus()?.GetDetail<RetryInfo>());
    }

    [Fact]
    public async Task Operators_AreNotLimited_ByDefault()
    {
        await using var host = await StartAsync(("Fleet:PermitsPerSecond", "1"), ("Fleet:Burst", "1"));
        var fleet = new FleetService.FleetServiceClient(host.Channel);
        for (var i = 0; i < 5; i++) await fleet.ListSitesAsync(new ListSitesRequest());
    }

    [Theory]
    [InlineData("MaxMessageBytes", "10")]
    [InlineData("RequestTimeout", "00:00:00")]
    [InlineData("Jobs:PermitsPerSecond", "0")]
    [InlineData("Telemetry:Burst", "1")]
    [InlineData("Fleet:MaxConcurrentCalls", "0")]
    public async Task BadLimits_RefuseToStart(string key, string value)
    {
        var ex = await Assert.ThrowsAsync<OptionsValidationException>(() => StartAsync((key, value)));
        Assert.Contains($"Scheduler:Limits:{key}", ex.Message);
    }

    [Fact]
    public async Task TheServerSideDeadline_CancelsTheCall_AndIsReportedAsTheDeadline()
    {
        // Many short timeouts: the timer may fire a little before the wall clock reaches the computed deadline.
        for (var i = 0; i < 200; i++)
        {
            var inner = new FakeCallContext();
            using var timed = new TimeLimitedCallContext(inner, TimeSpan.FromMilliseconds(1 + i % 5));

            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Task.Delay(TimeSpan.FromSeconds(30), timed.CancellationToken));
            Assert.True(timed.Deadline <= DateTime.UtcNow, $"timeout {1 + i % 5} ms: the deadline {timed.Deadline:O} is still ahead");
            Assert.Same(inner.UserState["__HttpContext"], timed.UserState["__HttpContext"]);
        }
    }

    private sealed class FakeCallContext : ServerCallContext
    {
        private readonly Dictionary<object, object> _state = new() { ["__HttpContext"] = new DefaultHttpContext() };
        protected override string MethodCore => "/scheduler.v1.FleetService/ListSites";
        protected override string HostCore => "localhost";
        protected override string PeerCore => "ipv4:127.0.0.1:1";
        protected override DateTime DeadlineCore => DateTime.MaxValue;
        protected override Metadata RequestHeadersCore => [];
        protected override CancellationToken CancellationTokenCore => CancellationToken.None;
        protected override Metadata ResponseTrailersCore => [];
        protected override Grpc.Core.Status StatusCore { get; set; }
        protected override WriteOptions? WriteOptionsCore { get; set; }
        protected override AuthContext AuthContextCore => new(null, []);
        protected override IDictionary<object, object> UserStateCore => _state;
        protected override ContextPropagationToken CreatePropagationTokenCore(ContextPropagationOptions? options) => throw new NotSupportedException();
        protected override Task WriteResponseHeadersAsyncCore(Metadata responseHeaders) => Task.CompletedTask;
    }
}
