namespace Scheduler.Api.Tests.Security;

using Google.Protobuf.WellKnownTypes;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using Scheduler.Api.Security;
using Scheduler.Api.V1;

/// <summary>
/// Every role × every RPC × its own or another's resource. The expectation is written out here, independently of
/// the server's policy: operators may do everything; tenants only JobService for their own tenant; plants only
/// TelemetryService for their own plant; agents only AgentService for their own site; no credential is
/// UNAUTHENTICATED. A denied call leaves the state as it was.
/// </summary>
[Collection(HostCollection.Name)]
public class AuthorizationMatrixTests(HostFixture fixture)
{
    public enum Persona { Anonymous, Operator, Tenant, Plant, Agent }

    private const string OwnTenant = "matrix-own", OtherTenant = "matrix-other", OwnPlant = "horinger-solar", OtherPlant = "ulanqab-solar";

    // Sites that do not exist: an admitted Connect then ends NOT_FOUND, so no site of the shared host gets an agent.
    private const string OwnSite = "matrix-site", OtherSite = "matrix-other-site";

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
            // A call refused at once may be over before the client has written: the write then fails CANCELLED, and
            // the call's own status (awaited below) is the answer.
            try
            {
                await call.RequestStream.WriteAsync(new GenerationSample { PlantId = plant, Megawatts = 1, Time = Timestamp.FromDateTimeOffset(now.AddSeconds(1)) });
                await call.RequestStream.CompleteAsync();
            }
            catch (RpcException) { }
            // On a stream a sample for another plant is dropped and described, not the call refused: map it back.
            if ((await call).Rejections.FirstOrDefault(r => r.Description.StartsWith("PERMISSION_DENIED", StringComparison.Ordinal)) is { } denied)
                throw new RpcException(new Status(StatusCode.PermissionDenied, denied.Description));
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
        ["AgentService/Connect"] = ("agent", async (ch, _, tenant, _, _) =>
        {
            using var call = new AgentService.AgentServiceClient(ch).Connect();
            try { await call.RequestStream.WriteAsync(new AgentMessage { Hello = new AgentHello { Site = tenant == OwnTenant ? OwnSite : OtherSite, AgentId = "matrix" } }); }
            catch (RpcException) { } // refused before the hello was written: the call's status below says why
            await call.ResponseStream.MoveNext(); // the site does not exist: NOT_FOUND once admitted
        }),
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
        (Persona.Agent, "agent") => own ? null : StatusCode.PermissionDenied,
        _ => StatusCode.PermissionDenied,
    };

    [Fact]
    public async Task PushGeneration_ByAPlant_DropsAndDescribesAnotherPlantsSamples_AndKeepsItsOwn()
    {
        var host = fixture.Host;
        host.Time.Advance(TimeSpan.FromMinutes(1));
        var now = host.Time.GetUtcNow();
        var fleet = new FleetService.FleetServiceClient(host.Channel);
        var other = (await fleet.GetSiteAsync(new GetSiteRequest { Id = "ulanqab" })).Plants.SingleOrDefault(p => p.PlantId == OtherPlant);
        GenerationSample Sample(string plant, int seconds) => new() { PlantId = plant, Megawatts = 7, Time = Timestamp.FromDateTimeOffset(now.AddSeconds(seconds)) };

        using var call = new TelemetryService.TelemetryServiceClient(host.ChannelAs(CallerIdentity.ForPlant(OwnPlant))).PushGeneration();
        await call.RequestStream.WriteAsync(Sample(OwnPlant, 1));
        await call.RequestStream.WriteAsync(Sample(OtherPlant, 1));
        await call.RequestStream.WriteAsync(Sample(OwnPlant, 2));
        await call.RequestStream.CompleteAsync();
        var reply = await call;

        Assert.Equal((2L, 1L), (reply.Accepted, reply.Rejected));
        var rejection = Assert.Single(reply.Rejections);
        Assert.Equal((1L, OtherPlant, "plant_id"), (rejection.Index, rejection.PlantId, rejection.Field));
        Assert.StartsWith("PERMISSION_DENIED", rejection.Description);
        Assert.Equal(other, (await fleet.GetSiteAsync(new GetSiteRequest { Id = "ulanqab" })).Plants.SingleOrDefault(p => p.PlantId == OtherPlant));
    }

    [Fact]
    public async Task PushGeneration_NumbersEveryRejection_ByItsPlaceInTheStream_WhenDropsAndRejectionsMix()
    {
        // The service numbers only the samples the guard let through; the reply must number them as the client sent them.
        var host = fixture.Host;
        host.Time.Advance(TimeSpan.FromMinutes(1));
        var now = host.Time.GetUtcNow();
        GenerationSample Sample(string plant, int seconds) => new() { PlantId = plant, Megawatts = 7, Time = Timestamp.FromDateTimeOffset(now.AddSeconds(seconds)) };

        using var call = new TelemetryService.TelemetryServiceClient(host.ChannelAs(CallerIdentity.ForPlant(OwnPlant))).PushGeneration();
        foreach (var sample in new[] { Sample(OtherPlant, 1), Sample(OwnPlant, 1), Sample(OtherPlant, 2), Sample(OtherPlant, 3), Sample(OwnPlant, 1), Sample(OwnPlant, 2) })
            await call.RequestStream.WriteAsync(sample);
        await call.RequestStream.CompleteAsync();
        var reply = await call;

        Assert.Equal((2L, 4L), (reply.Accepted, reply.Rejected));
        Assert.Equal([(0L, "plant_id"), (2L, "plant_id"), (3L, "plant_id"), (4L, "time")], reply.Rejections.Select(r => (r.Index, r.Field)));
    }

    [Fact]
    public async Task PushGeneration_DropsAnUndecodableSample_AndGoesOn()
    {
        var host = fixture.Host;
        host.Time.Advance(TimeSpan.FromMinutes(1));
        var now = host.Time.GetUtcNow();
        byte[] Sample(int seconds) => new GenerationSample { PlantId = OwnPlant, Megawatts = 3, Time = Timestamp.FromDateTimeOffset(now.AddSeconds(seconds)) }.ToByteArray();
        var bytes = Grpc.Core.Marshallers.Create<byte[]>(b => b, b => b);
        var method = new Method<byte[], byte[]>(MethodType.ClientStreaming, "scheduler.v1.TelemetryService", "PushGeneration", bytes, bytes);

        using var call = host.Channel.CreateCallInvoker().AsyncClientStreamingCall(method, null, new CallOptions());
        await call.RequestStream.WriteAsync(Sample(1));
        await call.RequestStream.WriteAsync([0x0A, 0xFF, 0x01]); // a string field whose length runs past the message
        await call.RequestStream.WriteAsync(Sample(2));
        await call.RequestStream.CompleteAsync();
        var reply = PushGenerationResponse.Parser.ParseFrom(await call.ResponseAsync);

        Assert.Equal((2L, 1L), (reply.Accepted, reply.Rejected));
        Assert.Equal(1L, Assert.Single(reply.Rejections).Index);
        Assert.StartsWith("INVALID_ARGUMENT", reply.Rejections[0].Description);
    }

    [Fact]
    public void TheMatrix_CoversEveryRpcOfTheApi()
    {
        var methods = new[] { JobService.Descriptor, TelemetryService.Descriptor, FleetService.Descriptor, ReplayService.Descriptor, AgentService.Descriptor }
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
            Persona.Agent => host.ChannelAs(CallerIdentity.ForAgent(OwnSite)),
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
