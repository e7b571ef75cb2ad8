namespace Scheduler.Api.Tests;

using Scheduler.Api.V1;

/// <summary>The whole path over gRPC: telemetry moves the surplus, WatchJob sees the job placed and relocated.</summary>
public sealed class LifecycleApiTests : IAsyncLifetime
{
    private SchedulerHost _host = null!;

    public async Task InitializeAsync() => _host = await SchedulerHost.StartFreshAsync();

    public async Task DisposeAsync() => await _host.DisposeAsync();

    /// <summary>Pushes wind: the named site gets 200 MW, the others nothing; all three samples must be accepted.</summary>
    private async Task WindAtAsync(string windySite) => Assert.Equal(3, await _host.PushWindAsync(windySite));

    [Fact]
    public async Task WatchJob_SeesThePlacement_AndTheRelocationWhenTheWindMoves()
    {
        var jobs = new JobService.JobServiceClient(_host.Channel);
        await _host.TickAsync(TimeSpan.FromMinutes(1));
        await WindAtAsync("horinger");
        var job = await jobs.CreateJobAsync(new CreateJobRequest
        {
            RequestId = "watch-1",
            Job = new JobSpec { Tenant = "demo", Gpus = 64, WorkGpuHours = 500, Relocatable = true, CheckpointGb = 50 },
        });
        // A bounded watch: if the relocation never comes, the test fails instead of hanging.
        using var watch = jobs.WatchJob(new WatchJobRequest { Id = job.Id }, deadline: DateTime.UtcNow.AddSeconds(60));

        _host.Time.Advance(TimeSpan.FromMinutes(5));
        await WindAtAsync("horinger");
        await _host.TickAsync(TimeSpan.Zero);
        for (var i = 0; i < 4; i++)
        {
            // Plants report continuously; a tick sees only fresh samples (older than PlantStaleAfter count as 0 MW).
            _host.Time.Advance(TimeSpan.FromMinutes(30));
            await WindAtAsync("ulanqab");
            await _host.TickAsync(TimeSpan.Zero);
        }

        var events = new List<Scheduler.Api.V1.JobEvent>();
        while (events.All(e => e.Kind != "landed") && await watch.ResponseStream.MoveNext(CancellationToken.None))
            events.Add(watch.ResponseStream.Current);

        Assert.Equal(["created", "placed", "relocating", "landed"], events.Select(e => e.Kind));
        Assert.Equal("horinger", events[1].ToSite);
        Assert.Equal(("horinger", "ulanqab", "relocate-to-surplus"), (events[2].FromSite, events[2].ToSite, events[2].Reason));
        Assert.Contains("deficit", events[2].Detail);
        var fleet = await new FleetService.FleetServiceClient(_host.Channel).GetFleetAsync(new GetFleetRequest());
        Assert.Equal(["ulanqab"], fleet.Sites.Where(s => s.Jobs.Any(j => j.JobId == job.Id)).Select(s => s.Site.Id));
        Assert.All(fleet.Sites, s => Assert.Equal(0, s.ExportMw));

        // The energy report accounts the job's green energy and its move, under its tenant too.
        var report = await new FleetService.FleetServiceClient(_host.Channel).GetEnergyReportAsync(new GetEnergyReportRequest());
        var line = Assert.Single(report.Jobs, l => l.Key == job.Id).Ledger;
        Assert.True(line.GreenMwh > 0, "the job used green energy");
        Assert.Equal(1, line.Relocations);
        Assert.Equal(50, line.RelocatedGb);
        Assert.Equal(line.GreenMwh, Assert.Single(report.Tenants, l => l.Key == "demo").Ledger.GreenMwh, 9);
        Assert.Equal(report.Jobs.Sum(l => l.Ledger.GreenMwh), report.TotalJobs.GreenMwh, 9);
        Assert.Equal(3, report.Sites.Count);
    }
}
