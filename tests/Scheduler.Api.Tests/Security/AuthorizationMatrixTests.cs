namespace Scheduler.Api.Tests.Security;

using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Grpc.Net.Client;
using Scheduler.Api.Security;
using Scheduler.Api.V1;

/// <summary>
/// Every role × every RPC × its own or another's resource. The expectation is written out here, independently of
/// the server's policy: operators may do everything; tenants only JobService for their own tenant; plants only
/// TelemetryService for their own plant; no credential is UNAUTHENTICATED. A denied call leaves the state as it was.
/// </summary>
[Collection(HostCollection.Name)]
public class AuthorizationMatrixTests(HostFixture fixture)
{
    public enum Persona { Anonymous, Operator, Tenant, Plant }

    private const string OwnTenant = "matrix-own", OtherTenant = "matrix-other", OwnPlant = "horinger-solar", OtherPlant = "ulanqab-solar";

    /// <summary>A call on behalf of a resource owner: the tenant or plant it names (own or other).</summary>
    private delegate Task Rpc(GrpcChannel channel, string tenantJob, string tenant, string plant, DateTimeOffset now);

    private static readonly IReadOnlyDictionary<string, (string Service, Rpc Call)> Rpcs = new Dictionary<string, (string, Rpc)>
    {
        ["JobService/CreateJob"] = ("job", (ch, _, tenant, _, _) => new JobService.JobServiceClient(ch).CreateJobAsync(new CreateJobRequest { Job = new JobSpec { Tenant = tenant, Gpus = 1, WorkGpuHours = 1 } }).ResponseAsync),
        ["JobService/GetJob"] = ("job", (ch, job, _, _, _) => new JobService.JobServiceClient(ch).GetJobAsync(new GetJobRequest { Id = job }).ResponseAsync),
        ["JobService/ListJobs"] = ("job", (ch, _, tenant, _, _) => new JobService.JobServiceClient(ch).ListJobsAsync(new ListJobsRequest { Tenant = tenant }).ResponseAsync),
        ["JobService/CancelJob"] = ("job", (ch, job, _, _, _) => new JobService.JobServiceClient(ch).CancelJobAsync(new CancelJobRequest { Id = job }).ResponseAsync),
        ["JobService/ExplainJob"] = ("job", (ch, job, _, _, _) => new JobService.JobServiceClient(ch).ExplainJobAsync(new ExplainJobRequest { Id = job }).ResponseAsync),
        ["JobService/WatchJob"] = ("job", async (ch, job, _, _, _) =>
        {
            using var call = new JobService.JobServiceClient(ch).WatchJob(new WatchJobRequest { Id = job });
            await call.ResponseStream.MoveNext(); // the first event (created) proves the watch was admitted
        }),
        ["TelemetryService/ReportGeneration"] = ("telemetry", (ch, _, _, plant, now) =>
            new TelemetryService.TelemetryServiceClient(ch).ReportGenerationAsync(new GenerationSample { PlantId = plant, Megawatts = 1, Time = Timestamp.FromDateTimeOffset(now) }).ResponseAsync),
        ["TelemetryService/PushGeneration"] = ("telemetry", async (ch, _, _, plant, now) =>
        {
            using var call = new TelemetryService.TelemetryServiceClient(ch).PushGeneration();
            await call.RequestStream.WriteAsync(new GenerationSample { PlantId = plant, Megawatts = 1, Time = Timestamp.FromDateTimeOffset(now.AddSeconds(1)) });
            await call.RequestStream.CompleteAsync();
            await call;
        }),
        // Fleet and replay calls are made invalid (or refused outside replay mode) so an admitted call changes nothing either.
        ["FleetService/UpsertSite"] = ("fleet", (ch, _, _, _, _) => new FleetService.FleetServiceClient(ch).UpsertSiteAsync(new UpsertSiteRequest()).ResponseAsync),
        ["FleetService/ListSites"] = ("fleet", (ch, _, _, _, _) => new FleetService.FleetServiceClient(ch).ListSitesAsync(new ListSitesRequest()).ResponseAsync),
        ["FleetService/GetSite"] = ("fleet", (ch, _, _, _, _) => new FleetService.FleetServiceClient(ch).GetSiteAsync(new GetSiteRequest { Id = "baotou" }).ResponseAsync),
        ["FleetService/UpsertPlant"] = ("fleet", (ch, _, _, _, _) => new FleetService.FleetServiceClient(ch).UpsertPlantAsync(new UpsertPlantRequest()).ResponseAsync),
        ["FleetService/ListPlants"] = ("fleet", (ch, _, _, _, _) => new FleetService.FleetServiceClient(ch).ListPlantsAsync(new ListPlantsRequest()).ResponseAsync),
        ["FleetService/UpsertLink"] = ("fleet", (ch, _, _, _, _) => new FleetService.FleetServiceClient(ch).UpsertLinkAsync(new UpsertLinkRequest()).ResponseAsync),
        ["FleetService/GetFleet"] = ("fleet", (ch, _, _, _, _) => new FleetService.FleetServiceClient(ch).GetFleetAsync(new GetFleetRequest()).ResponseAsync),
        ["FleetService/GetEnergyReport"] = ("fleet", (ch, _, _, _, _) => new FleetService.FleetServiceClient(ch).GetEnergyReportAsync(new GetEnergyReportRequest()).ResponseAsync),
        ["ReplayService/SetRegionPolicy"] = ("fleet", (ch, _, _, _, _) => new ReplayService.ReplayServiceClient(ch).SetRegionPolicyAsync(new SetRegionPolicyRequest { Region = "inner-mongolia", Policy = "greedy" }).ResponseAsync),
        ["ReplayService/SetClock"] = ("fleet", (ch, _, _, _, now) => new ReplayService.ReplayServiceClient(ch).SetClockAsync(new SetClockRequest { Time = Timestamp.FromDateTimeOffset(now) }).ResponseAsync),
        ["ReplayService/Tick"] = ("fleet", (ch, _, _, _, _) => new ReplayService.ReplayServiceClient(ch).TickAsync(new TickRequest()).ResponseAsync),
    };

    public static TheoryData<Persona, string, bool> Matrix()
    {
        var data = new TheoryData<Persona, string, bool>();
        foreach (var persona in System.Enum.GetValues<Persona>())
            foreach (var rpc in Rpcs.Keys)
                foreach (var own in new[] { true, false })
                    data.Add(persona, rpc, own);
        return data;
    }

    /// <summary>The rule, stated once for the test: null means admitted (whatever the service then answers).</summary>
    private static StatusCode? Expected(Persona persona, string service, bool own) => (persona, service) switch
    {
        (Persona.Anonymous, _) => StatusCode.Unauthenticated,
        (Persona.Operator, _) => null,
        (Persona.Tenant, "job") => own ? null : StatusCode.PermissionDenied,
        (Persona.Plant, "telemetry") => own ? null : StatusCode.PermissionDenied,
        _ => StatusCode.PermissionDenied,
    };

    [Fact]
    public void TheMatrix_CoversEveryRpcOfTheApi()
    {
        var methods = new[] { JobService.Descriptor, TelemetryService.Descriptor, FleetService.Descriptor, ReplayService.Descriptor }
            .SelectMany(s => s.Methods.Select(m => $"{s.Name}/{m.Name}")).Order().ToList();
        Assert.Equal(methods, Rpcs.Keys.Order().ToList());
    }

    [Theory]
    [MemberData(nameof(Matrix))]
    public async Task Role_CallsRpc_OnOwnOrOthersResource(Persona persona, string rpc, bool own)
    {
        var host = fixture.Host;
        var jobs = new JobService.JobServiceClient(host.Channel);
        var tenant = own ? OwnTenant : OtherTenant;
        // A job of the resource's tenant, created by the operator; WatchJob needs it open, CancelJob may end it.
        var job = await jobs.CreateJobAsync(new CreateJobRequest { Job = new JobSpec { Tenant = tenant, Gpus = 1, WorkGpuHours = 1 } });
        var channel = persona switch
        {
            Persona.Anonymous => host.ChannelWithToken(null),
            Persona.Operator => host.Channel,
            Persona.Tenant => host.ChannelAs(CallerIdentity.ForTenant(OwnTenant)),
            _ => host.ChannelAs(CallerIdentity.ForPlant(OwnPlant)),
        };
        host.Time.Advance(TimeSpan.FromMinutes(1));
        var (service, call) = Rpcs[rpc];
        var expected = Expected(persona, service, own);
        var before = await StateProbe.TakeAsync(host);

        var failure = await Record.ExceptionAsync(() => call(channel, job.Id, tenant, own ? OwnPlant : OtherPlant, host.Time.GetUtcNow()));

        var code = (failure as RpcException)?.StatusCode;
        if (failure is not null and not RpcException) throw failure;
        if (expected is { } refused)
        {
            Assert.Equal(refused, code);
            Assert.Equal(before, await StateProbe.TakeAsync(host));
        }
        else Assert.True(code is not (StatusCode.PermissionDenied or StatusCode.Unauthenticated), $"{persona} {rpc}: refused with {code}: {(failure as RpcException)?.Status.Detail}");
    }
}
