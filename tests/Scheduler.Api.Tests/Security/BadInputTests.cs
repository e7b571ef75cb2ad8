namespace Scheduler.Api.Tests.Security;

using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Scheduler.Api.V1;

/// <summary>
/// The table of bad inputs: each names the RPC and what is wrong, and asserts the exact status code, the violated
/// field (google.rpc.BadRequest), and that the fleet and every job are exactly as before the call.
/// </summary>
[Collection(HostCollection.Name)]
public class BadInputTests(HostFixture fixture)
{
    /// <summary>One bad call. <paramref name="Setup"/> runs before the snapshot (a first sample, for duplicates).</summary>
    public sealed record Case(Func<Clients, DateTimeOffset, Task> Call, StatusCode Code, string? Field, Func<Clients, DateTimeOffset, Task>? Setup = null);

    public sealed record Clients(JobService.JobServiceClient Jobs, TelemetryService.TelemetryServiceClient Telemetry, FleetService.FleetServiceClient Fleet, ReplayService.ReplayServiceClient Replay);

    private static JobSpec Good() => new() { Tenant = "bad-input", Gpus = 8, WorkGpuHours = 10 };

    private static Func<Clients, DateTimeOffset, Task> Create(Action<JobSpec, DateTimeOffset> mutate, string requestId = "") => (c, now) =>
    {
        var spec = Good();
        mutate(spec, now);
        return c.Jobs.CreateJobAsync(new CreateJobRequest { RequestId = requestId, Job = spec }).ResponseAsync;
    };

    private static Timestamp At(DateTimeOffset t) => Timestamp.FromDateTimeOffset(t);

    private static GenerationSample Sample(DateTimeOffset now, string plant = "baotou-wind", double mw = 10) => new() { PlantId = plant, Megawatts = mw, Time = At(now) };

    private static Func<Clients, DateTimeOffset, Task> Report(Func<DateTimeOffset, GenerationSample> sample) => (c, now) => c.Telemetry.ReportGenerationAsync(sample(now)).ResponseAsync;

    private static GenerationSample WithForecast(GenerationSample s, params ForecastPoint[] points)
    {
        s.Forecast.AddRange(points);
        return s;
    }

    private static Site GoodSite() => new() { Id = "bad-input-site", Region = "inner-mongolia", GpuCount = 64, KilowattsPerGpu = 1, GridImportLimitMw = 1 };

    public static readonly IReadOnlyDictionary<string, Case> Cases = new Dictionary<string, Case>
    {
        // JobService.CreateJob
        ["create: no job"] = new((c, _) => c.Jobs.CreateJobAsync(new CreateJobRequest()).ResponseAsync, StatusCode.InvalidArgument, "job"),
        ["create: empty tenant"] = new(Create((j, _) => j.Tenant = ""), StatusCode.InvalidArgument, "job.tenant"),
        ["create: tenant with a space"] = new(Create((j, _) => j.Tenant = "a b"), StatusCode.InvalidArgument, "job.tenant"),
        ["create: tenant of 129 characters"] = new(Create((j, _) => j.Tenant = new string('t', 129)), StatusCode.InvalidArgument, "job.tenant"),
        ["create: tenant with a slash"] = new(Create((j, _) => j.Tenant = "../etc"), StatusCode.InvalidArgument, "job.tenant"),
        ["create: tenant non-ASCII"] = new(Create((j, _) => j.Tenant = "租户"), StatusCode.InvalidArgument, "job.tenant"),
        ["create: zero GPUs"] = new(Create((j, _) => j.Gpus = 0), StatusCode.InvalidArgument, "job.gpus"),
        ["create: negative GPUs"] = new(Create((j, _) => j.Gpus = -8), StatusCode.InvalidArgument, "job.gpus"),
        ["create: more GPUs than any site"] = new(Create((j, _) => j.Gpus = 1_000_000), StatusCode.InvalidArgument, "job.gpus"),
        ["create: int.MaxValue GPUs"] = new(Create((j, _) => j.Gpus = int.MaxValue), StatusCode.InvalidArgument, "job.gpus"),
        ["create: NaN work"] = new(Create((j, _) => j.WorkGpuHours = double.NaN), StatusCode.InvalidArgument, "job.work_gpu_hours"),
        ["create: infinite work"] = new(Create((j, _) => j.WorkGpuHours = double.PositiveInfinity), StatusCode.InvalidArgument, "job.work_gpu_hours"),
        ["create: negative work"] = new(Create((j, _) => j.WorkGpuHours = -1), StatusCode.InvalidArgument, "job.work_gpu_hours"),
        ["create: zero work"] = new(Create((j, _) => j.WorkGpuHours = 0), StatusCode.InvalidArgument, "job.work_gpu_hours"),
        ["create: absurd work"] = new(Create((j, _) => j.WorkGpuHours = 1e12), StatusCode.InvalidArgument, "job.work_gpu_hours"),
        ["create: negative checkpoint"] = new(Create((j, _) => j.CheckpointGb = -1), StatusCode.InvalidArgument, "job.checkpoint_gb"),
        ["create: workload without a command"] = new(Create((j, _) => j.Workload = new Workload()), StatusCode.InvalidArgument, "job.workload.command"),
        ["create: workload command of 1025 characters"] = new(Create((j, _) => j.Workload = new Workload { Command = new string('c', 1025) }), StatusCode.InvalidArgument, "job.workload.command"),
        ["create: workload command with a newline"] = new(Create((j, _) => j.Workload = new Workload { Command = "run\nrm" }), StatusCode.InvalidArgument, "job.workload.command"),
        ["create: workload with 257 arguments"] = new(Create((j, _) => j.Workload = new Workload { Command = "run", Args = { Enumerable.Repeat("a", 257) } }), StatusCode.InvalidArgument, "job.workload.args"),
        ["create: workload argument with NUL"] = new(Create((j, _) => j.Workload = new Workload { Command = "run", Args = { "ok", "a\0b" } }), StatusCode.InvalidArgument, "job.workload.args[1]"),
        ["create: workload argument of 4097 characters"] = new(Create((j, _) => j.Workload = new Workload { Command = "run", Args = { new string('a', 4097) } }), StatusCode.InvalidArgument, "job.workload.args[0]"),
        ["create: workload env name with '='"] = new(Create((j, _) => j.Workload = new Workload { Command = "run", Env = { ["A=B"] = "1" } }), StatusCode.InvalidArgument, "job.workload.env[A=B]"),
        ["create: workload env name reserved"] = new(Create((j, _) => j.Workload = new Workload { Command = "run", Env = { ["SCHEDULER_JOB_ID"] = "x" } }), StatusCode.InvalidArgument, "job.workload.env[SCHEDULER_JOB_ID]"),
        ["create: workload env value with NUL"] = new(Create((j, _) => j.Workload = new Workload { Command = "run", Env = { ["A"] = "x\0" } }), StatusCode.InvalidArgument, "job.workload.env[A]"),
        ["create: workload with 129 variables"] = new(Create((j, _) => j.Workload = new Workload { Command = "run", Env = { Enumerable.Range(0, 129).ToDictionary(i => $"V{i}", _ => "1") } }), StatusCode.InvalidArgument, "job.workload.env"),
        ["create: workload over 64 KiB"] = new(Create((j, _) => j.Workload = new Workload { Command = "run", Args = { Enumerable.Repeat(new string('a', 4000), 20) } }), StatusCode.InvalidArgument, "job.workload"),
        ["create: NaN checkpoint"] = new(Create((j, _) => j.CheckpointGb = double.NaN), StatusCode.InvalidArgument, "job.checkpoint_gb"),
        ["create: checkpoint above 1 PB"] = new(Create((j, _) => j.CheckpointGb = 2e6), StatusCode.InvalidArgument, "job.checkpoint_gb"),
        ["create: NaN tokens per GPU-hour"] = new(Create((j, _) => j.TokensPerGpuHour = double.NaN), StatusCode.InvalidArgument, "job.tokens_per_gpu_hour"),
        ["create: negative tokens per GPU-hour"] = new(Create((j, _) => j.TokensPerGpuHour = -1), StatusCode.InvalidArgument, "job.tokens_per_gpu_hour"),
        ["create: deadline in the past"] = new(Create((j, now) => j.Deadline = At(now.AddHours(-1))), StatusCode.InvalidArgument, "job.deadline"),
        ["create: deadline equal to arrival"] = new(Create((j, now) => j.Deadline = At(now)), StatusCode.InvalidArgument, "job.deadline"),
        ["create: deadline with bad nanos"] = new(Create((j, _) => j.Deadline = new Timestamp { Seconds = 1, Nanos = -5 }), StatusCode.InvalidArgument, "job.deadline"),
        ["create: deadline beyond year 9999"] = new(Create((j, _) => j.Deadline = new Timestamp { Seconds = long.MaxValue }), StatusCode.InvalidArgument, "job.deadline"),
        ["create: deadline 20 years ahead"] = new(Create((j, now) => j.Deadline = At(now.AddYears(20))), StatusCode.InvalidArgument, "job.deadline"),
        ["create: unknown allowed site"] = new(Create((j, _) => j.AllowedSites.Add("atlantis")), StatusCode.InvalidArgument, "job.allowed_sites[0]"),
        ["create: allowed site with bad characters"] = new(Create((j, _) => j.AllowedSites.Add("hor inger")), StatusCode.InvalidArgument, "job.allowed_sites[0]"),
        ["create: allowed site twice"] = new(Create((j, _) => j.AllowedSites.Add(["horinger", "horinger"])), StatusCode.InvalidArgument, "job.allowed_sites"),
        ["create: 65 allowed sites"] = new(Create((j, _) => j.AllowedSites.Add(Enumerable.Repeat("horinger", 65))), StatusCode.InvalidArgument, "job.allowed_sites"),
        ["create: unknown region"] = new(Create((j, _) => j.Region = "mars"), StatusCode.InvalidArgument, "job.region"),
        ["create: request id with bad characters"] = new(Create((_, _) => { }, requestId: "a/b"), StatusCode.InvalidArgument, "request_id"),
        ["create: request id of 129 characters"] = new(Create((_, _) => { }, requestId: new string('r', 129)), StatusCode.InvalidArgument, "request_id"),
        ["create: larger than the message limit"] = new(Create((j, _) => j.AllowedSites.Add(new string('x', 2 * 1024 * 1024))), StatusCode.ResourceExhausted, null),
        // JobService, by id
        ["get: empty id"] = new((c, _) => c.Jobs.GetJobAsync(new GetJobRequest()).ResponseAsync, StatusCode.InvalidArgument, "id"),
        ["get: id with bad characters"] = new((c, _) => c.Jobs.GetJobAsync(new GetJobRequest { Id = "job;drop" }).ResponseAsync, StatusCode.InvalidArgument, "id"),
        ["get: unknown job"] = new((c, _) => c.Jobs.GetJobAsync(new GetJobRequest { Id = "job-none" }).ResponseAsync, StatusCode.NotFound, null),
        ["cancel: empty id"] = new((c, _) => c.Jobs.CancelJobAsync(new CancelJobRequest()).ResponseAsync, StatusCode.InvalidArgument, "id"),
        ["cancel: reason too long"] = new((c, _) => c.Jobs.CancelJobAsync(new CancelJobRequest { Id = "job-none", Reason = new string('r', 513) }).ResponseAsync, StatusCode.InvalidArgument, "reason"),
        ["cancel: unknown job"] = new((c, _) => c.Jobs.CancelJobAsync(new CancelJobRequest { Id = "job-none" }).ResponseAsync, StatusCode.NotFound, null),
        ["explain: id too long"] = new((c, _) => c.Jobs.ExplainJobAsync(new ExplainJobRequest { Id = new string('j', 200) }).ResponseAsync, StatusCode.InvalidArgument, "id"),
        ["watch: negative sequence"] = new(async (c, _) =>
        {
            using var call = c.Jobs.WatchJob(new WatchJobRequest { Id = "job-none", AfterSequence = -1 });
            await call.ResponseStream.MoveNext();
        }, StatusCode.InvalidArgument, "after_sequence"),
        ["list: negative page size"] = new((c, _) => c.Jobs.ListJobsAsync(new ListJobsRequest { PageSize = -1 }).ResponseAsync, StatusCode.InvalidArgument, "page_size"),
        ["list: page size above 1000"] = new((c, _) => c.Jobs.ListJobsAsync(new ListJobsRequest { PageSize = 1001 }).ResponseAsync, StatusCode.InvalidArgument, "page_size"),
        ["list: forged page token"] = new((c, _) => c.Jobs.ListJobsAsync(new ListJobsRequest { PageToken = "not-a-token" }).ResponseAsync, StatusCode.InvalidArgument, "page_token"),
        ["list: tenant with bad characters"] = new((c, _) => c.Jobs.ListJobsAsync(new ListJobsRequest { Tenant = "*" }).ResponseAsync, StatusCode.InvalidArgument, "tenant"),
        // TelemetryService
        ["telemetry: NaN output"] = new(Report(now => Sample(now, mw: double.NaN)), StatusCode.InvalidArgument, "megawatts"),
        ["telemetry: +infinite output"] = new(Report(now => Sample(now, mw: double.PositiveInfinity)), StatusCode.InvalidArgument, "megawatts"),
        ["telemetry: -infinite output"] = new(Report(now => Sample(now, mw: double.NegativeInfinity)), StatusCode.InvalidArgument, "megawatts"),
        ["telemetry: negative output"] = new(Report(now => Sample(now, mw: -0.5)), StatusCode.InvalidArgument, "megawatts"),
        ["telemetry: above nameplate x tolerance"] = new(Report(now => Sample(now, mw: 1e6)), StatusCode.InvalidArgument, "megawatts"),
        ["telemetry: an hour in the future"] = new(Report(now => Sample(now.AddHours(1))), StatusCode.InvalidArgument, "time"),
        ["telemetry: no time"] = new(Report(now => new GenerationSample { PlantId = "baotou-wind", Megawatts = 1 }), StatusCode.InvalidArgument, "time"),
        ["telemetry: time with bad nanos"] = new(Report(now => new GenerationSample { PlantId = "baotou-wind", Megawatts = 1, Time = new Timestamp { Seconds = now.ToUnixTimeSeconds(), Nanos = 2_000_000_000 } }), StatusCode.InvalidArgument, "time"),
        ["telemetry: duplicate"] = new(Report(now => Sample(now)), StatusCode.InvalidArgument, "time", Setup: Report(now => Sample(now))),
        ["telemetry: out of order"] = new(Report(now => Sample(now.AddSeconds(-30))), StatusCode.InvalidArgument, "time", Setup: Report(now => Sample(now))),
        ["telemetry: unknown plant"] = new(Report(now => Sample(now, plant: "ghost-plant")), StatusCode.InvalidArgument, "plant_id"),
        ["telemetry: empty plant id"] = new(Report(now => Sample(now, plant: "")), StatusCode.InvalidArgument, "plant_id"),
        ["telemetry: NaN temperature"] = new(Report(now => { var s = Sample(now); s.OutsideCelsius = double.NaN; return s; }), StatusCode.InvalidArgument, "outside_celsius"),
        ["telemetry: 500 °C"] = new(Report(now => { var s = Sample(now); s.OutsideCelsius = 500; return s; }), StatusCode.InvalidArgument, "outside_celsius"),
        ["telemetry: NaN forecast"] = new(Report(now => WithForecast(Sample(now), new ForecastPoint { Time = At(now.AddHours(1)), Megawatts = double.NaN })), StatusCode.InvalidArgument, "forecast[0].megawatts"),
        ["telemetry: forecast out of order"] = new(Report(now => WithForecast(Sample(now), new ForecastPoint { Time = At(now.AddHours(2)), Megawatts = 1 }, new ForecastPoint { Time = At(now.AddHours(1)), Megawatts = 1 })), StatusCode.InvalidArgument, "forecast[1].time"),
        ["telemetry: forecast without time"] = new(Report(now => WithForecast(Sample(now), new ForecastPoint { Megawatts = 1 })), StatusCode.InvalidArgument, "forecast[0].time"),
        ["telemetry: 1001 forecast points"] = new(Report(now => WithForecast(Sample(now), [.. Enumerable.Range(1, 1001).Select(i => new ForecastPoint { Time = At(now.AddMinutes(i)), Megawatts = 1 })])), StatusCode.InvalidArgument, "forecast"),
        // FleetService
        ["fleet: upsert no site"] = new((c, _) => c.Fleet.UpsertSiteAsync(new UpsertSiteRequest()).ResponseAsync, StatusCode.InvalidArgument, "site"),
        ["fleet: site id with bad characters"] = new((c, _) => { var s = GoodSite(); s.Id = "a b"; return c.Fleet.UpsertSiteAsync(new UpsertSiteRequest { Site = s }).ResponseAsync; }, StatusCode.InvalidArgument, "site.id"),
        ["fleet: site with negative GPUs"] = new((c, _) => { var s = GoodSite(); s.GpuCount = -1; return c.Fleet.UpsertSiteAsync(new UpsertSiteRequest { Site = s }).ResponseAsync; }, StatusCode.InvalidArgument, "site.gpu_count"),
        ["fleet: plant of no kind"] = new((c, _) => c.Fleet.UpsertPlantAsync(new UpsertPlantRequest { Plant = new Plant { Id = "p-x", SiteId = "baotou", NameplateMw = 1 } }).ResponseAsync, StatusCode.InvalidArgument, "plant.kind"),
        ["fleet: plant of an unknown site"] = new((c, _) => c.Fleet.UpsertPlantAsync(new UpsertPlantRequest { Plant = new Plant { Id = "p-x", SiteId = "atlantis", Kind = PlantKind.Wind, NameplateMw = 1 } }).ResponseAsync, StatusCode.InvalidArgument, "plant.site_id"),
        ["fleet: link to itself"] = new((c, _) => c.Fleet.UpsertLinkAsync(new UpsertLinkRequest { Link = new Link { SiteA = "baotou", SiteB = "baotou", BandwidthGbps = 10 } }).ResponseAsync, StatusCode.InvalidArgument, "link.site_b"),
        ["fleet: link of zero bandwidth"] = new((c, _) => c.Fleet.UpsertLinkAsync(new UpsertLinkRequest { Link = new Link { SiteA = "baotou", SiteB = "horinger", BandwidthGbps = 0 } }).ResponseAsync, StatusCode.InvalidArgument, "link.bandwidth_gbps"),
        ["fleet: unknown site"] = new((c, _) => c.Fleet.GetSiteAsync(new GetSiteRequest { Id = "atlantis" }).ResponseAsync, StatusCode.NotFound, null),
        ["fleet: plants of a bad site id"] = new((c, _) => c.Fleet.ListPlantsAsync(new ListPlantsRequest { SiteId = "%" }).ResponseAsync, StatusCode.InvalidArgument, "site_id"),
        // ReplayService on a live host
        ["replay: set the clock of a live host"] = new((c, now) => c.Replay.SetClockAsync(new SetClockRequest { Time = At(now.AddDays(1)) }).ResponseAsync, StatusCode.FailedPrecondition, null),
        ["replay: tick a live host"] = new((c, _) => c.Replay.TickAsync(new TickRequest()).ResponseAsync, StatusCode.FailedPrecondition, null),
    };

    public static TheoryData<string> Names => [.. Cases.Keys];

    [Fact]
    public void TheTable_HasAtLeastFiftyBadInputs() => Assert.True(Cases.Count >= 50, $"{Cases.Count} cases");

    [Theory]
    [MemberData(nameof(Names))]
    public async Task BadInput_IsRefusedWithItsCodeAndField_AndChangesNothing(string name)
    {
        var host = fixture.Host;
        var c = new Clients(new(host.Channel), new(host.Channel), new(host.Channel), new(host.Channel));
        var @case = Cases[name];
        host.Time.Advance(TimeSpan.FromMinutes(1)); // a fresh "now" per case: telemetry must move forward in time
        var now = host.Time.GetUtcNow();
        if (@case.Setup is { } setup) await setup(c, now);
        var before = await StateProbe.TakeAsync(host);

        var (code, fields) = await Rpc.FailsAsync(() => @case.Call(c, now));

        Assert.Equal(@case.Code, code);
        if (@case.Field is { } field) Assert.Contains(field, fields);
        else Assert.Empty(fields);
        Assert.Equal(before, await StateProbe.TakeAsync(host));
    }
}
