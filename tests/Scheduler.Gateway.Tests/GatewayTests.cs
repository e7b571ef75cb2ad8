namespace Scheduler.Gateway.Tests;

using System.Net;
using System.Net.Sockets;
using Grpc.Core;
using Grpc.Health.V1;
using Scheduler.Api.Client;
using Scheduler.Api.V1;
using Scheduler.Cluster.Tests.Infrastructure;
using Xunit.Abstractions;

/// <summary>The gateway topology: every JobService call through a gateway, readiness, and a watch across a gateway restart.</summary>
public sealed class GatewayTests(GatewayCluster cluster, ITestOutputHelper output) : IClassFixture<GatewayCluster>
{
    private const string Tenant = "gateway";

    private static CreateJobRequest Request(string requestId) => new()
    {
        RequestId = requestId,
        // Long enough to be still running when the tests cancel it.
        Job = new JobSpec { Tenant = Tenant, Gpus = 8, WorkGpuHours = 10_000, CheckpointGb = 10, Relocatable = true },
    };

    [SkippableFact]
    [Trait("Category", "Cluster")]
    public async Task Gateway_IsLiveButNotReadyAndRefusesCalls_UntilASiloIsReachable()
    {
        Skip.If(cluster.Redis is null, RedisServer.SkipReason);

        // Recorded while the gateways ran and no silo existed yet.
        var before = cluster.BeforeSilos;
        Assert.Equal(HttpStatusCode.OK, before.Live);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, before.Ready);
        Assert.Equal(HealthCheckResponse.Types.ServingStatus.NotServing, before.GrpcHealth);
        Assert.Equal(StatusCode.Unavailable, before.Call);
        Assert.Contains("not connected", before.Detail, StringComparison.Ordinal);

        // The silos came later; the same gateway processes found them by themselves.
        foreach (var gateway in cluster.Gateways)
        {
            Assert.Equal(HttpStatusCode.OK, await gateway.HealthAsync("/readyz"));
            Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, (await new Health.HealthClient(gateway.Channel).CheckAsync(new HealthCheckRequest())).Status);
        }
    }

    [SkippableFact]
    [Trait("Category", "Cluster")]
    public async Task JobService_EveryCallWorks_ThroughTheGateway_WithSilosServingNoGrpc()
    {
        Skip.If(cluster.Redis is null, RedisServer.SkipReason);
        var jobs = cluster.Gateways[0].Jobs;

        // The silos serve no gRPC at all: nothing listens on their gRPC ports.
        foreach (var silo in cluster.Silos)
        {
            using var socket = new TcpClient();
            await Assert.ThrowsAsync<SocketException>(() => socket.ConnectAsync(IPAddress.Loopback, silo.GrpcPort));
        }

        var created = await jobs.CreateJobAsync(Request("every-call"));
        Assert.Equal(Tenant, created.Spec.Tenant);
        Assert.Equal(JobState.Queued, created.State);
        // Idempotent through any gateway: the same request id on the other gateway is the same job.
        var again = await cluster.Gateways[1].Jobs.CreateJobAsync(Request("every-call"));
        Assert.Equal(created.Id, again.Id);

        var got = await jobs.GetJobAsync(new GetJobRequest { Id = created.Id });
        Assert.Equal(created.Id, got.Id);
        Assert.Equal("created", got.History[0].Kind);

        var listed = await jobs.ListJobsAsync(new ListJobsRequest { Tenant = Tenant, PageSize = 1000 });
        Assert.Contains(listed.Jobs, j => j.Id == created.Id);
        Assert.Equal(listed.Jobs.Count, listed.TotalSize);

        var explained = await jobs.ExplainJobAsync(new ExplainJobRequest { Id = created.Id });
        Assert.Equal(created.Id, explained.JobId);
        Assert.Equal("created", explained.Events[0].Kind);
        Assert.NotEmpty(explained.TraceId);

        using var watch = jobs.WatchJob(new WatchJobRequest { Id = created.Id });
        Assert.True(await watch.ResponseStream.MoveNext());
        Assert.Equal("created", watch.ResponseStream.Current.Kind);

        var cancelled = await jobs.CancelJobAsync(new CancelJobRequest { Id = created.Id, Reason = "gateway test" });
        Assert.Equal(JobState.Cancelled, cancelled.State);
        // The open watch sees the cancellation and then ends by itself (OK: the job ended).
        var rest = new List<JobEvent>();
        while (await watch.ResponseStream.MoveNext()) rest.Add(watch.ResponseStream.Current);
        Assert.Equal("cancelled", rest[^1].Kind);
        Assert.Equal(JobState.Cancelled, rest[^1].State);
        Assert.Equal(StatusCode.OK, watch.GetStatus().StatusCode);

        // Errors keep their status through the gateway: bad input, unknown job, an illegal change, no token.
        var invalid = await Assert.ThrowsAsync<RpcException>(() => jobs.CreateJobAsync(new CreateJobRequest { Job = new JobSpec { Tenant = Tenant, Gpus = 0, WorkGpuHours = 1 } }).ResponseAsync);
        Assert.Equal(StatusCode.InvalidArgument, invalid.StatusCode);
        Assert.Contains("job.gpus", invalid.Status.Detail, StringComparison.Ordinal);
        var missing = await Assert.ThrowsAsync<RpcException>(() => jobs.GetJobAsync(new GetJobRequest { Id = "job-none" }).ResponseAsync);
        Assert.Equal(StatusCode.NotFound, missing.StatusCode);
        var twice = await Assert.ThrowsAsync<RpcException>(() => jobs.CancelJobAsync(new CancelJobRequest { Id = created.Id }).ResponseAsync);
        Assert.Equal(StatusCode.FailedPrecondition, twice.StatusCode);
        using var anonymous = SchedulerChannel.Create(cluster.Gateways[0].Address, token: null);
        var refused = await Assert.ThrowsAsync<RpcException>(() => new JobService.JobServiceClient(anonymous).GetJobAsync(new GetJobRequest { Id = created.Id }).ResponseAsync);
        Assert.Equal(StatusCode.Unauthenticated, refused.StatusCode);
    }

    [SkippableFact]
    [Trait("Category", "Cluster")]
    public async Task AgentService_AttachesASiteAgent_ThroughTheGateway()
    {
        Skip.If(cluster.Redis is null, RedisServer.SkipReason);
        // A site agent is a client like any other: its stream's state lives in the site grain, not in the process
        // serving the stream, so a gateway serves it as a co-hosted silo does.
        using var channel = SchedulerChannel.Create(cluster.Gateways[1].Address,
            Scheduler.Cluster.Tests.Failover.SiloProcess.Credentials.Mint(Scheduler.Api.Security.CallerIdentity.ForAgent("ulanqab")));
        using var call = new AgentService.AgentServiceClient(channel).Connect();
        await call.RequestStream.WriteAsync(new AgentMessage { Hello = new AgentHello { Site = "ulanqab", AgentId = "gateway-test" } });
        Assert.True(await call.ResponseStream.MoveNext());
        Assert.NotEmpty(call.ResponseStream.Current.Welcome.Session);

        // The site knows its agent, as read through the other gateway.
        var site = await new FleetService.FleetServiceClient(cluster.Gateways[0].Channel).GetSiteAsync(new GetSiteRequest { Id = "ulanqab" });
        Assert.Equal("agent", site.Executor);
        Assert.Equal("gateway-test", site.AgentId);
        await call.RequestStream.CompleteAsync();
    }

    [SkippableFact]
    [Trait("Category", "Cluster")]
    public async Task WatchJob_ResumesWithoutMissingTheFinalState_WhenTheGatewayRestartsMidWatch()
    {
        Skip.If(cluster.Redis is null, RedisServer.SkipReason);
        var (watched, other) = (cluster.Gateways[0], cluster.Gateways[1]);
        var job = await other.Jobs.CreateJobAsync(Request("watch-restart"));

        // A watch through the first gateway has seen the job's first event when that gateway is stopped (SIGTERM, as
        // a rolling update stops a pod).
        var seen = new List<JobEvent>();
        using (var watch = watched.Jobs.WatchJob(new WatchJobRequest { Id = job.Id }))
        {
            Assert.True(await watch.ResponseStream.MoveNext());
            seen.Add(watch.ResponseStream.Current);
            var stopping = watched.StopAsync(TimeSpan.FromSeconds(30));
            // The stream must fail, not end with OK: OK would tell the client that the job is over.
            var ended = await Assert.ThrowsAsync<RpcException>(async () =>
            {
                while (await watch.ResponseStream.MoveNext()) seen.Add(watch.ResponseStream.Current);
            });
            output.WriteLine($"watch ended with {ended.StatusCode}: {ended.Status.Detail}");
            Assert.Equal(StatusCode.Unavailable, ended.StatusCode);
            // Said by the stopping server itself, at once, with the resume point (not a connection torn down later).
            Assert.Contains($"after_sequence = {seen[^1].Sequence}", ended.Status.Detail, StringComparison.Ordinal);
            await stopping;
        }
        Assert.False(watched.IsRunning);

        // While that gateway is down, the job reaches its final state through the other one.
        var cancelled = await other.Jobs.CancelJobAsync(new CancelJobRequest { Id = job.Id, Reason = "ended while the gateway was down" });
        Assert.Equal(JobState.Cancelled, cancelled.State);

        // The same gateway comes back on the same address; the client resumes from the last sequence it saw.
        watched.Start();
        await watched.WaitReadyAsync(GatewayCluster.StartLimit);
        var resumed = new List<JobEvent>();
        using (var watch = watched.Jobs.WatchJob(new WatchJobRequest { Id = job.Id, AfterSequence = seen[^1].Sequence }))
        {
            while (await watch.ResponseStream.MoveNext()) resumed.Add(watch.ResponseStream.Current);
            Assert.Equal(StatusCode.OK, watch.GetStatus().StatusCode);
        }

        // Nothing missed, nothing twice: both watches together are the job's whole history, ending with the cancellation.
        var history = (await watched.Jobs.GetJobAsync(new GetJobRequest { Id = job.Id })).History;
        Assert.Equal(history.Select(e => e.Sequence), seen.Concat(resumed).Select(e => e.Sequence));
        Assert.NotEmpty(resumed);
        Assert.Equal("cancelled", resumed[^1].Kind);
        Assert.Equal(JobState.Cancelled, resumed[^1].State);
    }
}
