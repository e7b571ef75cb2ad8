namespace Scheduler.Api.Tests;

using Microsoft.Extensions.Time.Testing;
using Scheduler.Api.V1;

public sealed class RestartTests
{
    [Fact]
    public async Task Restart_OnTheSameDataDirectory_KeepsEveryJobInItsState()
    {
        var dataDir = Path.Combine(Path.GetTempPath(), "scheduler-restart-" + Guid.NewGuid().ToString("N")[..8]);
        var time = new FakeTimeProvider(HostFixture.Start);
        Dictionary<string, (JobState State, string Site, long Epoch)> before;
        try
        {
            await using (var host = await SchedulerHost.StartAsync(dataDir, time))
            {
                var jobs = new JobService.JobServiceClient(host.Channel);
                await host.TickAsync(TimeSpan.FromMinutes(1));
                await new TelemetryService.TelemetryServiceClient(host.Channel).ReportGenerationAsync(new GenerationSample
                {
                    PlantId = "baotou-wind", Megawatts = 200, Time = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTimeOffset(time.GetUtcNow()),
                });
                for (var i = 0; i < 4; i++)
                    await jobs.CreateJobAsync(new CreateJobRequest { RequestId = $"keep-{i}", Job = new JobSpec { Tenant = "keep", Gpus = 64, WorkGpuHours = 1000, Interruptible = i % 2 == 0 } });
                await host.TickAsync(TimeSpan.FromMinutes(5));
                var cancelled = (await jobs.ListJobsAsync(new ListJobsRequest { Tenant = "keep" })).Jobs[3].Id;
                await jobs.CancelJobAsync(new CancelJobRequest { Id = cancelled });
                before = await SnapshotAsync(jobs);
                Assert.Contains(before.Values, j => j.State == JobState.Running);
                Assert.Contains(before.Values, j => j.State == JobState.Cancelled);
            }

            await using (var host = await SchedulerHost.StartAsync(dataDir, time))
            {
                var jobs = new JobService.JobServiceClient(host.Channel);
                Assert.Equal(before, await SnapshotAsync(jobs));
                var site = await new FleetService.FleetServiceClient(host.Channel).GetSiteAsync(new GetSiteRequest { Id = "baotou" });
                Assert.Equal(before.Where(j => j.Value.State == JobState.Running && j.Value.Site == "baotou").Select(j => j.Key).Order(),
                    site.Jobs.Select(j => j.JobId).Order());
            }
        }
        finally
        {
            try { Directory.Delete(dataDir, recursive: true); } catch (IOException) { }
        }
    }

    private static async Task<Dictionary<string, (JobState, string, long)>> SnapshotAsync(JobService.JobServiceClient jobs)
    {
        var list = await jobs.ListJobsAsync(new ListJobsRequest { Tenant = "keep" });
        var result = new Dictionary<string, (JobState, string, long)>();
        foreach (var summary in list.Jobs)
        {
            var job = await jobs.GetJobAsync(new GetJobRequest { Id = summary.Id });
            result[job.Id] = (job.State, job.Site, job.Epoch);
        }
        return result;
    }
}
