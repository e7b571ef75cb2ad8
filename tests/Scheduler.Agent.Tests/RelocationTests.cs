namespace Scheduler.Agent.Tests;

using Scheduler.Api.V1;

/// <summary>
/// Two agents for two sites of the built-in fleet (horinger, ulanqab) on one machine, against an in-process host, run
/// the example workload for real: it is placed where the wind is, moved when the wind moves (checkpoint at the old
/// site, through the shared store, restore at the new one), and restarted from its last checkpoint when its agent dies.
/// </summary>
public sealed class RelocationTests(Xunit.Abstractions.ITestOutputHelper output) : IAsyncLifetime
{
    private const int Steps = 200, StepMilliseconds = 30;
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(90);
    private AgentTestHost _host = null!;

    public async Task InitializeAsync() => _host = await AgentTestHost.StartAsync();

    public async Task DisposeAsync() => await _host.DisposeAsync();

    private async Task<Job> CreateAsync(string requestId) => await _host.Jobs.CreateJobAsync(new CreateJobRequest
    {
        RequestId = requestId,
        Job = new JobSpec
        {
            Tenant = "agents", Gpus = 64, WorkGpuHours = 500, Relocatable = true, CheckpointGb = 50,
            // baotou has no agent (the clock runs it): keep the job to the two sites with one.
            AllowedSites = { "horinger", "ulanqab" },
            Workload = AgentTestHost.StepWorkload(Steps, StepMilliseconds),
        },
    });

    /// <summary>Ticks with the wind at <paramref name="windySite"/> until the job is bound there (relocating or running).</summary>
    private async Task FollowTheWindAsync(string jobId, string windySite)
    {
        for (var i = 0; i < 8 && (await _host.JobAsync(jobId)).Site != windySite; i++)
            await _host.TickAsync(TimeSpan.FromMinutes(30), windySite);
        Assert.Equal(windySite, (await _host.JobAsync(jobId)).Site);
    }

    /// <summary>Waits until the site's agent has reported at least <paramref name="steps"/> steps of the job.</summary>
    private Task StepsReportedAsync(string site, string jobId, int steps) => AgentTestHost.UntilAsync(async () =>
        await _host.AgentJobAsync(site, jobId) is { } a && a.WorkDone >= steps, Patience, $"{site} reports {steps} steps of {jobId}");

    /// <summary>Ticks a minute at a time (real processes run meanwhile) until the job has completed.</summary>
    private Task CompletedAsync(string jobId, string windySite) => AgentTestHost.UntilAsync(async () =>
    {
        await _host.TickAsync(TimeSpan.FromMinutes(1), windySite);
        return (await _host.JobAsync(jobId)).State == JobState.Completed;
    }, Patience, $"job {jobId} completes");

    [Fact]
    public async Task TwoAgents_TheExampleWorkloadMovesWithTheWind_AndCompletesEveryStepExactlyOnce()
    {
        await _host.StartAgentAsync("horinger");
        await _host.StartAgentAsync("ulanqab");
        await _host.TickAsync(TimeSpan.FromMinutes(1), "horinger");
        var job = await CreateAsync("relocate-1");
        await _host.TickAsync(TimeSpan.FromMinutes(5), "horinger");
        Assert.Equal(("horinger", JobState.Running), ((await _host.JobAsync(job.Id)).Site, (await _host.JobAsync(job.Id)).State));
        await StepsReportedAsync("horinger", job.Id, 10);

        await FollowTheWindAsync(job.Id, "ulanqab");
        await CompletedAsync(job.Id, "ulanqab");

        var a = _host.StepsLogged("horinger", job.Id, out _);
        var b = _host.StepsLogged("ulanqab", job.Id, out var bLines);
        // Real work was done at both sites, and together it is every step once, in order: none lost, none repeated.
        Assert.True(a.Count >= 10 && b.Count >= 1, $"steps at horinger {a.Count}, at ulanqab {b.Count}");
        Assert.Equal(Enumerable.Range(1, Steps), a.Concat(b));
        Assert.StartsWith($"restored step {a.Count} ", bLines.Single(l => l.StartsWith("restored step ", StringComparison.Ordinal)));
        // The state carried across the move: the final hash is the one of an uninterrupted run.
        Assert.Equal($"done {Steps} {AgentTestHost.ExpectedState(Steps)}", bLines.Single(l => l.StartsWith("done ", StringComparison.Ordinal)));

        var history = (await _host.JobAsync(job.Id)).History;
        Assert.Equal(["created", "placed", "relocating", "checkpointed", "landed", "completed"],
            history.Select(e => e.Kind).Where(k => k != "deferred"));
        var checkpointed = history.Single(e => e.Kind == "checkpointed");
        output.WriteLine($"steps at horinger {a.Count}, at ulanqab {b.Count}; checkpoint: {checkpointed.Detail}");
        Assert.Equal(("horinger", "checkpoint-written"), (checkpointed.FromSite, checkpointed.Reason));
        Assert.Equal(0, (await _host.JobAsync(job.Id)).RemainingGpuHours);
    }

    [Fact]
    public async Task AKilledAgent_IsDetected_AndItsJobRestartsElsewhereFromItsLastCheckpoint()
    {
        await _host.StartAgentAsync("horinger");
        var ulanqab = await _host.StartAgentAsync("ulanqab");
        await _host.TickAsync(TimeSpan.FromMinutes(1), "horinger");
        var job = await CreateAsync("killed-1");
        await _host.TickAsync(TimeSpan.FromMinutes(5), "horinger");
        await StepsReportedAsync("horinger", job.Id, 10);
        await FollowTheWindAsync(job.Id, "ulanqab");
        // horinger's process runs until its checkpoint is written; only then is its log the checkpoint's steps.
        await AgentTestHost.UntilAsync(async () => (await _host.JobAsync(job.Id)).History.Any(e => e.Kind == "checkpointed"), Patience, "the move's checkpoint is recorded");
        var checkpointStep = _host.StepsLogged("horinger", job.Id, out _).Count;
        await AgentTestHost.UntilAsync(async () =>
        {
            await _host.TickAsync(TimeSpan.FromSeconds(10), "ulanqab");
            return await _host.AgentJobAsync("ulanqab", job.Id) is { } a && a.WorkDone >= checkpointStep + 10;
        }, Patience, "ulanqab runs 10 steps past the checkpoint");

        // The machine dies: the agent's connection drops and its processes with it, nothing said.
        await _host.StopAgentAsync(ulanqab);
        await AgentTestHost.UntilAsync(async () =>
            (await _host.Grains.GetGrain<Grains.ISiteGrain>("ulanqab").GetAsync())?.Executor is { Connected: false }, Patience, "the scheduler sees ulanqab's agent gone");
        await CompletedAsync(job.Id, "ulanqab"); // the wind stays at ulanqab, but only horinger has an agent now

        var history = (await _host.JobAsync(job.Id)).History;
        var lost = history.Single(e => e.Kind == "lost");
        Assert.Equal(("ulanqab", "agent-lost"), (lost.FromSite, lost.Reason));
        Assert.Equal("horinger", history.Last(e => e.Kind == "placed").ToSite);

        var a = _host.StepsLogged("horinger", job.Id, out var aLines);
        var b = _host.StepsLogged("ulanqab", job.Id, out _);
        // horinger's second run restored the move's checkpoint: it resumed after that step, not from the start.
        Assert.Equal(2, aLines.Count(l => l.StartsWith("# ", StringComparison.Ordinal) && l.Contains(" start epoch ", StringComparison.Ordinal)));
        Assert.Single(aLines, l => l.StartsWith($"restored step {checkpointStep} ", StringComparison.Ordinal));
        Assert.Equal(Enumerable.Range(1, checkpointStep), a.Take(checkpointStep));
        Assert.Equal(Enumerable.Range(checkpointStep + 1, Steps - checkpointStep), a.Skip(checkpointStep));
        // What ulanqab did after the checkpoint was lost with it and is done again: the price of no newer checkpoint.
        Assert.Equal(Enumerable.Range(checkpointStep + 1, b.Count), b);
        Assert.True(b.Count >= 10, $"ulanqab ran {b.Count} steps");
        output.WriteLine($"checkpoint at step {checkpointStep}; ulanqab ran {b.Count} steps before it died (done again at horinger); {lost.Detail}");
        Assert.Equal($"done {Steps} {AgentTestHost.ExpectedState(Steps)}", aLines.Single(l => l.StartsWith("done ", StringComparison.Ordinal)));
    }
}
