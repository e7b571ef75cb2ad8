namespace Scheduler.Api.Tests;

using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Scheduler.Api.V1;

[Collection(HostCollection.Name)]
public class JobApiTests(HostFixture fixture)
{
    private JobService.JobServiceClient Jobs => new(fixture.Host.Channel);
    private readonly string _tenant = "t" + Guid.NewGuid().ToString("N")[..8];

    private JobSpec Spec(int gpus = 64, double work = 500, bool interruptible = false) => new()
    {
        Tenant = _tenant, Gpus = gpus, WorkGpuHours = work, Interruptible = interruptible, Relocatable = true, CheckpointGb = 10,
    };

    [Fact]
    public async Task CreateJob_ReturnsAQueuedJob_AndIsIdempotentOnTheRequestId()
    {
        var first = await Jobs.CreateJobAsync(new CreateJobRequest { RequestId = "r-1", Job = Spec() });
        var retry = await Jobs.CreateJobAsync(new CreateJobRequest { RequestId = "r-1", Job = Spec() });
        var other = await Jobs.CreateJobAsync(new CreateJobRequest { RequestId = "r-2", Job = Spec() });

        Assert.Equal(JobState.Queued, first.State);
        Assert.Equal(first.Id, retry.Id);
        Assert.NotEqual(first.Id, other.Id);
        var list = await Jobs.ListJobsAsync(new ListJobsRequest { Tenant = _tenant });
        Assert.Equal(2, list.TotalSize);
        var (code, _) = await Rpc.FailsAsync(() => Jobs.CreateJobAsync(new CreateJobRequest { RequestId = "r-1", Job = Spec(gpus: 128) }).ResponseAsync);
        Assert.Equal(StatusCode.AlreadyExists, code);
    }

    [Fact]
    public async Task CreateJob_NamesEveryBadField_AndCreatesNothing()
    {
        var spec = new JobSpec
        {
            Tenant = _tenant, Gpus = 0, WorkGpuHours = double.NaN, CheckpointGb = -1,
            Deadline = Timestamp.FromDateTimeOffset(fixture.Host.Time.GetUtcNow().AddHours(-1)),
            AllowedSites = { "atlantis" },
        };

        var (code, fields) = await Rpc.FailsAsync(() => Jobs.CreateJobAsync(new CreateJobRequest { RequestId = "bad id!", Job = spec }).ResponseAsync);

        Assert.Equal(StatusCode.InvalidArgument, code);
        Assert.Equal(["request_id", "job.gpus", "job.work_gpu_hours", "job.checkpoint_gb", "job.deadline", "job.allowed_sites[0]"], fields);
        Assert.Equal(0, (await Jobs.ListJobsAsync(new ListJobsRequest { Tenant = _tenant })).TotalSize);
    }

    [Fact]
    public async Task CreateJob_WithHundredsOfBadFields_ListsTheFirstAndCountsTheRest_InAStatusThatFitsTheHeaders()
    {
        // 200 arguments over the limit, 128 variables each with a bad name and a NUL in its value, and their total:
        // 457 violations in a request within the 1 MiB message limit. Their full list (non-ASCII names percent-encoded
        // in grpc-message, and again in grpc-status-details-bin) overflowed the client's 64 KiB header limit and
        // reached it as UNAVAILABLE.
        var spec = Spec();
        spec.Workload = new Workload
        {
            Command = "run",
            Args = { Enumerable.Repeat(new string('y', Scheduler.Api.Services.RequestValidation.MaxArgumentLength + 1), 200) },
            Env = { Enumerable.Range(0, 128).ToDictionary(i => $"{i}{string.Concat(Enumerable.Repeat("租户", 20))}", _ => "\0") },
        };

        var ex = await Assert.ThrowsAsync<RpcException>(() => Jobs.CreateJobAsync(new CreateJobRequest { Job = spec }).ResponseAsync);

        Assert.Equal(StatusCode.InvalidArgument, ex.StatusCode);
        var violations = ex.GetRpcStatus()!.GetDetail<Google.Rpc.BadRequest>()!.FieldViolations;
        Assert.Equal(21, violations.Count);
        Assert.Equal([.. Enumerable.Range(0, 20).Select(i => $"job.workload.args[{i}]")], violations.Take(20).Select(v => v.Field));
        Assert.Equal("and 437 more violations, not listed", violations[20].Description);
        Assert.Equal(0, (await Jobs.ListJobsAsync(new ListJobsRequest { Tenant = _tenant })).TotalSize);
    }

    [Fact]
    public async Task CreateJob_LargerThanAnySite_IsInvalid()
    {
        var (code, fields) = await Rpc.FailsAsync(() => Jobs.CreateJobAsync(new CreateJobRequest { Job = Spec(gpus: 1_000_000) }).ResponseAsync);

        Assert.Equal(StatusCode.InvalidArgument, code);
        Assert.Equal(["job.gpus"], fields);
    }

    [Fact]
    public async Task GetJob_And_CancelJob_OfAnUnknownJob_AreNotFound()
    {
        Assert.Equal(StatusCode.NotFound, (await Rpc.FailsAsync(() => Jobs.GetJobAsync(new GetJobRequest { Id = "job-none" }).ResponseAsync)).Code);
        Assert.Equal(StatusCode.NotFound, (await Rpc.FailsAsync(() => Jobs.CancelJobAsync(new CancelJobRequest { Id = "job-none" }).ResponseAsync)).Code);
        Assert.Equal(StatusCode.InvalidArgument, (await Rpc.FailsAsync(() => Jobs.GetJobAsync(new GetJobRequest()).ResponseAsync)).Code);
    }

    [Fact]
    public async Task CancelJob_Cancels_AndASecondCancelFailsItsPrecondition()
    {
        var job = await Jobs.CreateJobAsync(new CreateJobRequest { Job = Spec() });

        var cancelled = await Jobs.CancelJobAsync(new CancelJobRequest { Id = job.Id, Reason = "changed my mind" });
        var (code, _) = await Rpc.FailsAsync(() => Jobs.CancelJobAsync(new CancelJobRequest { Id = job.Id }).ResponseAsync);

        Assert.Equal(JobState.Cancelled, cancelled.State);
        Assert.Equal(StatusCode.FailedPrecondition, code);
        var fetched = await Jobs.GetJobAsync(new GetJobRequest { Id = job.Id });
        Assert.Equal(["created", "cancelled"], fetched.History.Select(e => e.Kind));
        Assert.Equal("changed my mind", fetched.History[^1].Detail);
    }

    [Fact]
    public async Task ListJobs_FiltersAndPages()
    {
        for (var i = 0; i < 3; i++) await Jobs.CreateJobAsync(new CreateJobRequest { RequestId = $"p{i}", Job = Spec() });

        var first = await Jobs.ListJobsAsync(new ListJobsRequest { Tenant = _tenant, PageSize = 2 });
        var second = await Jobs.ListJobsAsync(new ListJobsRequest { Tenant = _tenant, PageSize = 2, PageToken = first.NextPageToken });
        var none = await Jobs.ListJobsAsync(new ListJobsRequest { Tenant = _tenant, State = JobState.Completed });
        var (badToken, fields) = await Rpc.FailsAsync(() => Jobs.ListJobsAsync(new ListJobsRequest { PageToken = "garbage" }).ResponseAsync);

        Assert.Equal((2, 3), (first.Jobs.Count, first.TotalSize));
        Assert.NotEmpty(first.NextPageToken);
        Assert.Single(second.Jobs);
        Assert.Empty(second.NextPageToken);
        Assert.Equal(3, first.Jobs.Concat(second.Jobs).Select(j => j.Id).Distinct().Count());
        // A listed job carries its spec, not just its id.
        Assert.All(first.Jobs, j => Assert.Equal((_tenant, 64, 500.0, "inner-mongolia"), (j.Spec.Tenant, j.Spec.Gpus, j.Spec.WorkGpuHours, j.Region)));
        Assert.Empty(none.Jobs);
        Assert.Equal(StatusCode.InvalidArgument, badToken);
        Assert.Equal(["page_token"], fields);
    }

    [Fact]
    public async Task WatchJob_HonoursTheCallersDeadline()
    {
        var job = await Jobs.CreateJobAsync(new CreateJobRequest { Job = Spec() });
        using var call = Jobs.WatchJob(new WatchJobRequest { Id = job.Id, AfterSequence = 1 }, deadline: DateTime.UtcNow.AddMilliseconds(300));

        var ex = await Assert.ThrowsAsync<RpcException>(async () => { while (await call.ResponseStream.MoveNext(CancellationToken.None)) { } });

        Assert.Equal(StatusCode.DeadlineExceeded, ex.StatusCode);
        await Jobs.CancelJobAsync(new CancelJobRequest { Id = job.Id });
    }

    /// <summary>
    /// A cancel first gives the job's record the work its site counted since the record last got a count: with
    /// counts forwarded only every ten years here, the record shows the first step alone until the cancel.
    /// </summary>
    [Fact]
    public async Task CancelJob_KeepsTheWorkCountedSinceTheRecordsLastCount()
    {
        await using var host = await SchedulerHost.StartFreshAsync(b => b.Configuration["Scheduler:ProgressForwardInterval"] = "3650.00:00:00");
        var jobs = new JobService.JobServiceClient(host.Channel);
        await host.TickAsync(TimeSpan.FromMinutes(1));
        await host.PushWindAsync("horinger");
        var job = await jobs.CreateJobAsync(new CreateJobRequest { RequestId = "cancel-counted", Job = Spec(gpus: 60, work: 500) });
        await host.TickAsync(TimeSpan.Zero); // placed at horinger
        foreach (var minutes in new[] { 6, 30, 30 })
        {
            host.Time.Advance(TimeSpan.FromMinutes(minutes));
            await host.PushWindAsync("horinger");
            await host.TickAsync(TimeSpan.Zero);
        }
        var before = await jobs.GetJobAsync(new GetJobRequest { Id = job.Id });

        var cancelled = await jobs.CancelJobAsync(new CancelJobRequest { Id = job.Id });

        Assert.Equal(JobState.Running, before.State);
        Assert.Equal(500 - 60 * 6 / 60.0, before.RemainingGpuHours, 6); // the first count only
        Assert.Equal(JobState.Cancelled, cancelled.State);
        Assert.Equal(500 - 60 * 66 / 60.0, cancelled.RemainingGpuHours, 6); // every step the site counted
    }
}
