namespace Scheduler.Replay.Driver;

using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Grpc.Net.Client;
using Scheduler.Api.V1;
using Scheduler.Scenarios;
using CoreModel = Scheduler.Core.Model;

/// <summary>Where a replay's wall-clock time went, by phase (the numbers docs/performance.md reports).</summary>
public sealed class ReplayTimings
{
    public TimeSpan Setup, Clock, Telemetry, Jobs, Tick, Readout;

    public override string ToString() =>
        $"setup {Setup.TotalSeconds:0.0} s, clock {Clock.TotalSeconds:0.0} s, telemetry {Telemetry.TotalSeconds:0.0} s, jobs {Jobs.TotalSeconds:0.0} s, tick {Tick.TotalSeconds:0.0} s, readout {Readout.TotalSeconds:0.0} s";
}

/// <summary>How far a replay has got.</summary>
public readonly record struct ReplayProgress(int Step, int Steps, int ActiveJobs);

/// <summary>Settings of one replay run.</summary>
public sealed class ReplayDriverOptions
{
    /// <summary>
    /// Hours of each plant's future output sent with every sample as its forecast. The forecast is perfect (the
    /// scenario's own series): a replay measures the policy, not a forecaster. 0 sends none. Default: 6 (the policy's gain horizon).
    /// </summary>
    public int ForecastHours { get; set; } = 6;

    /// <summary>Jobs created concurrently at one step. Default: 64.</summary>
    public int MaxConcurrentCreates { get; set; } = 64;
}

/// <summary>
/// Replays a scenario through the public gRPC API of a host started with <c>--replay</c>: each policy gets its own
/// region (its sites, plants and jobs prefixed with the policy name), so all of them run side by side on the same
/// virtual clock, through the same telemetry, job and tick paths as live operation. Each step: move the clock, push
/// every plant's sample, create the jobs that arrived, tick; the figures are read back from the sites and the
/// energy ledger the system itself keeps.
/// </summary>
public sealed class ReplayDriver(GrpcChannel channel, ReplayDriverOptions? options = null)
{
    private readonly ReplayDriverOptions _options = options ?? new();
    private readonly ReplayService.ReplayServiceClient _replay = new(channel);
    private readonly FleetService.FleetServiceClient _fleet = new(channel);
    private readonly TelemetryService.TelemetryServiceClient _telemetry = new(channel);
    private readonly JobService.JobServiceClient _jobs = new(channel);

    /// <summary>The id a scenario's site, plant or job gets in a policy's region.</summary>
    public static string Qualify(string policy, string id) => $"{policy}.{id}";

    /// <summary>Wall-clock time of the last <see cref="RunAsync"/>, by phase.</summary>
    public ReplayTimings Timings { get; } = new();

    public async Task<IReadOnlyList<PolicyOutcome>> RunAsync(LoadedScenario scenario, IReadOnlyList<string> policies,
        IProgress<ReplayProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        if (policies.Count == 0) throw new ArgumentException("policies: at least one", nameof(policies));
        var ct = cancellationToken;
        var phase = System.Diagnostics.Stopwatch.StartNew();
        TimeSpan Lap() { var t = phase.Elapsed; phase.Restart(); return t; }
        await SetUpFleetAsync(scenario, policies, ct);
        var runs = policies.Select(p => new PolicyRun(p, scenario)).ToList();
        var (jobsByStep, late) = ArrivalsByStep(scenario);
        foreach (var run in runs) run.Late(late);
        Timings.Setup += Lap();

        // Step i's tick closes the interval [t(i-1), t(i)) and decides for the next; one tick past the last step closes it.
        for (var i = 0; i <= scenario.Steps; i++)
        {
            var at = scenario.TimeAt(i);
            await _replay.SetClockAsync(new SetClockRequest { Time = Timestamp.FromDateTimeOffset(at) }, cancellationToken: ct);
            Timings.Clock += Lap();
            if (i < scenario.Steps)
            {
                await PushSamplesAsync(scenario, policies, i, ct);
                Timings.Telemetry += Lap();
                await CreateJobsAsync(runs, jobsByStep[i], ct);
                Timings.Jobs += Lap();
            }
            var tick = await _replay.TickAsync(new TickRequest(), cancellationToken: ct);
            Timings.Tick += Lap();
            foreach (var run in runs) run.Record(i, tick.Sites);
            progress?.Report(new ReplayProgress(i, scenario.Steps, tick.ActiveJobs));
        }

        var report = await _fleet.GetEnergyReportAsync(new GetEnergyReportRequest(), cancellationToken: ct);
        var jobs = await ListAllJobsAsync(ct);
        var outcomes = runs.Select(r => r.Finish(report, jobs)).ToList();
        Timings.Readout += Lap();
        return outcomes;
    }

    private async Task SetUpFleetAsync(LoadedScenario scenario, IReadOnlyList<string> policies, CancellationToken ct)
    {
        foreach (var policy in policies)
        {
            foreach (var site in scenario.Sites)
                await _fleet.UpsertSiteAsync(new UpsertSiteRequest { Site = ToProto(site, policy) }, cancellationToken: ct);
            foreach (var plant in scenario.Plants)
                await _fleet.UpsertPlantAsync(new UpsertPlantRequest
                {
                    Plant = new Plant
                    {
                        Id = Qualify(policy, plant.Id), Kind = plant.Kind == CoreModel.PlantKind.Wind ? PlantKind.Wind : PlantKind.Solar,
                        NameplateMw = plant.NameplateMegawatts, SiteId = Qualify(policy, plant.SiteId), GreenPriceCnyPerKwh = plant.GreenPriceCnyPerKilowattHour,
                    },
                }, cancellationToken: ct);
            foreach (var link in scenario.Links)
                await _fleet.UpsertLinkAsync(new UpsertLinkRequest
                {
                    Link = new Link { SiteA = Qualify(policy, link.SiteA), SiteB = Qualify(policy, link.SiteB), BandwidthGbps = link.BandwidthGbps },
                }, cancellationToken: ct);
            await _replay.SetRegionPolicyAsync(new SetRegionPolicyRequest { Region = policy, Policy = policy }, cancellationToken: ct);
        }
    }

    private static Site ToProto(CoreModel.SiteSpec s, string policy) => new()
    {
        Id = Qualify(policy, s.Id), Region = policy, GpuCount = s.GpuCount, KilowattsPerGpu = s.KilowattsPerGpu,
        Cooling = new Cooling
        {
            FreeCoolingPue = s.Cooling.FreeCoolingPue, MechanicalPue = s.Cooling.MechanicalPue,
            FreeCoolingBelowCelsius = s.Cooling.FreeCoolingBelowCelsius, RampCelsius = s.Cooling.RampCelsius,
        },
        BaseLoadMw = s.BaseLoadMegawatts,
        Battery = new Battery
        {
            CapacityMwh = s.Battery.CapacityMegawattHours, MaxChargeMw = s.Battery.MaxChargeMegawatts, MaxDischargeMw = s.Battery.MaxDischargeMegawatts,
            RoundTripEfficiency = s.Battery.RoundTripEfficiency, MinStateOfCharge = s.Battery.MinStateOfCharge, MaxStateOfCharge = s.Battery.MaxStateOfCharge,
        },
        GridImportLimitMw = s.GridImportLimitMegawatts, GridPriceCnyPerKwh = s.GridPriceCnyPerKilowattHour, GridCarbonKgPerKwh = s.GridCarbonKgPerKilowattHour,
    };

    /// <summary>
    /// The system learns of a job at the first step boundary at or after its arrival. A job whose deadline has passed
    /// by then cannot be submitted (the API refuses a deadline in the past): it is a miss for every policy alike.
    /// </summary>
    private static (List<CoreModel.JobSpec>[] ByStep, List<CoreModel.JobSpec> Late) ArrivalsByStep(LoadedScenario scenario)
    {
        var byStep = Enumerable.Range(0, Math.Max(1, scenario.Steps)).Select(_ => new List<CoreModel.JobSpec>()).ToArray();
        var late = new List<CoreModel.JobSpec>();
        foreach (var job in scenario.Jobs)
        {
            var step = Math.Max(0, (int)Math.Ceiling((job.Arrival - scenario.Start) / scenario.Step));
            if (step >= scenario.Steps) continue;
            if (job.Deadline is { } d && d <= scenario.TimeAt(step)) late.Add(job);
            else byStep[step].Add(job);
        }
        return (byStep, late);
    }

    private async Task PushSamplesAsync(LoadedScenario scenario, IReadOnlyList<string> policies, int step, CancellationToken ct)
    {
        var at = Timestamp.FromDateTimeOffset(scenario.TimeAt(step));
        using var call = _telemetry.PushGeneration(cancellationToken: ct);
        foreach (var plant in scenario.Plants)
        {
            var series = scenario.PlantMegawatts[plant.Id];
            var sample = new GenerationSample { Time = at, Megawatts = series[step], OutsideCelsius = scenario.SiteCelsius[plant.SiteId][step] };
            for (var h = 1; h <= _options.ForecastHours; h++)
            {
                var ahead = step + (int)Math.Round(h * TimeSpan.FromHours(1) / scenario.Step);
                if (ahead >= scenario.Steps) break;
                sample.Forecast.Add(new ForecastPoint { Time = Timestamp.FromDateTimeOffset(scenario.TimeAt(ahead)), Megawatts = series[ahead] });
            }
            foreach (var policy in policies)
            {
                var mine = sample.Clone();
                mine.PlantId = Qualify(policy, plant.Id);
                await call.RequestStream.WriteAsync(mine, ct);
            }
        }
        await call.RequestStream.CompleteAsync();
        var reply = await call;
        if (reply.Rejected > 0)
            throw new InvalidOperationException($"step {step}: {reply.Rejected} samples rejected: {string.Join("; ", reply.Rejections.Take(3))}");
    }

    private async Task CreateJobsAsync(IReadOnlyList<PolicyRun> runs, List<CoreModel.JobSpec> arrivals, CancellationToken ct)
    {
        if (arrivals.Count == 0) return;
        using var gate = new SemaphoreSlim(_options.MaxConcurrentCreates);
        await Task.WhenAll(runs.SelectMany(run => arrivals.Select(async job =>
        {
            await gate.WaitAsync(ct);
            try
            {
                var spec = new JobSpec
                {
                    Region = run.Policy,
                    Tenant = job.TenantId, Gpus = job.Gpus, WorkGpuHours = job.WorkGpuHours, Interruptible = job.Interruptible,
                    Relocatable = job.Relocatable, CheckpointGb = job.CheckpointGigabytes,
                };
                if (job.Deadline is { } d) spec.Deadline = Timestamp.FromDateTimeOffset(d);
                if (job.TokensPerGpuHour is { } t) spec.TokensPerGpuHour = t;
                spec.AllowedSites.AddRange(job.AllowedSites.Select(s => Qualify(run.Policy, s)));
                // The request id makes a retried create harmless.
                var created = await _jobs.CreateJobAsync(new CreateJobRequest { RequestId = Qualify(run.Policy, job.Id), Job = spec }, cancellationToken: ct);
                run.Created(job, created.Id);
            }
            finally
            {
                gate.Release();
            }
        })));
    }

    private async Task<List<Job>> ListAllJobsAsync(CancellationToken ct)
    {
        var all = new List<Job>();
        var token = "";
        do
        {
            var page = await _jobs.ListJobsAsync(new ListJobsRequest { PageSize = 1000, PageToken = token }, cancellationToken: ct);
            all.AddRange(page.Jobs);
            token = page.NextPageToken;
        } while (token.Length > 0);
        return all;
    }
}
