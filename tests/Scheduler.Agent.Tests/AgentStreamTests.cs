namespace Scheduler.Agent.Tests;

using Grpc.Core;
using Scheduler.Api.Client;
using Scheduler.Api.Security;
using Scheduler.Api.V1;

/// <summary>The AgentService stream itself, with a raw client: its first message, its site rule, and one agent per site.</summary>
public sealed class AgentStreamTests : IAsyncLifetime
{
    private readonly List<Grpc.Net.Client.GrpcChannel> _channels = [];
    private AgentTestHost _host = null!;

    public async Task InitializeAsync() => _host = await AgentTestHost.StartAsync();

    public async Task DisposeAsync()
    {
        _channels.ForEach(c => c.Dispose());
        await _host.DisposeAsync();
    }

    private AsyncDuplexStreamingCall<AgentMessage, AgentCommand> Connect(CallerIdentity caller)
    {
        var channel = SchedulerChannel.Create(_host.Address, _host.Credentials.Mint(caller));
        _channels.Add(channel);
        return new AgentService.AgentServiceClient(channel).Connect(deadline: DateTime.UtcNow.AddSeconds(60));
    }

    /// <summary>Sends one message and returns the status the stream ends with (OK if it answered a welcome instead).</summary>
    private static async Task<(StatusCode Code, string Detail)> FirstAnswerAsync(AsyncDuplexStreamingCall<AgentMessage, AgentCommand> call, AgentMessage first)
    {
        try
        {
            await call.RequestStream.WriteAsync(first);
            return await call.ResponseStream.MoveNext() ? (StatusCode.OK, call.ResponseStream.Current.BodyCase.ToString()) : (StatusCode.OK, "ended");
        }
        catch (RpcException ex) { return (ex.StatusCode, ex.Status.Detail); }
    }

    public static TheoryData<string> BadFirstMessages => ["heartbeat", "no site", "bad site", "bad running job"];

    [Theory]
    [MemberData(nameof(BadFirstMessages))]
    public async Task ABadFirstMessage_IsInvalidArgument_NamingTheField(string kind)
    {
        using var call = Connect(CallerIdentity.Operator("tests"));
        var (message, field) = kind switch
        {
            "heartbeat" => (new AgentMessage { Heartbeat = new AgentHeartbeat() }, "hello"),
            "no site" => (new AgentMessage { Hello = new AgentHello() }, "hello.site"),
            "bad site" => (new AgentMessage { Hello = new AgentHello { Site = "../horinger" } }, "hello.site"),
            _ => (new AgentMessage { Hello = new AgentHello { Site = "horinger", Running = { new RunningJob { JobId = "a b", Epoch = 1 } } } }, "hello.running[0].job_id"),
        };

        var (code, detail) = await FirstAnswerAsync(call, message);

        Assert.Equal(StatusCode.InvalidArgument, code);
        Assert.StartsWith(field + ":", detail);
        Assert.Equal("clock", await ExecutorAsync("horinger")); // nothing attached
    }

    [Fact]
    public async Task AnAgent_AttachesToItsOwnSiteOnly_AndAnUnknownSiteIsNotFound()
    {
        using var other = Connect(CallerIdentity.ForAgent("horinger"));
        Assert.Equal(StatusCode.PermissionDenied, (await FirstAnswerAsync(other, new AgentMessage { Hello = new AgentHello { Site = "ulanqab" } })).Code);
        using var unknown = Connect(CallerIdentity.ForAgent("nowhere"));
        Assert.Equal(StatusCode.NotFound, (await FirstAnswerAsync(unknown, new AgentMessage { Hello = new AgentHello { Site = "nowhere" } })).Code);
        using var own = Connect(CallerIdentity.ForAgent("horinger"));
        Assert.Equal((StatusCode.OK, "Welcome"), await FirstAnswerAsync(own, new AgentMessage { Hello = new AgentHello { Site = "horinger" } }));

        Assert.Equal("clock", await ExecutorAsync("ulanqab"));
        Assert.Equal("agent", await ExecutorAsync("horinger"));
    }

    [Fact]
    public async Task ANewerConnectionForTheSite_EndsTheOlderOne_Aborted()
    {
        using var first = Connect(CallerIdentity.ForAgent("horinger"));
        Assert.Equal((StatusCode.OK, "Welcome"), await FirstAnswerAsync(first, new AgentMessage { Hello = new AgentHello { Site = "horinger", AgentId = "one" } }));
        using var second = Connect(CallerIdentity.ForAgent("horinger"));
        Assert.Equal((StatusCode.OK, "Welcome"), await FirstAnswerAsync(second, new AgentMessage { Hello = new AgentHello { Site = "horinger", AgentId = "two" } }));

        // The first stream's next read ends it: its session is no longer the site's.
        var ended = await Assert.ThrowsAsync<RpcException>(async () => { while (await first.ResponseStream.MoveNext()) { } });
        Assert.Equal(StatusCode.Aborted, ended.StatusCode);
        Assert.Equal("two", (await _host.Grains.GetGrain<Grains.ISiteGrain>("horinger").GetAsync())!.Executor!.AgentId);
    }

    private async Task<string> ExecutorAsync(string site) =>
        (await new FleetService.FleetServiceClient(_host.Channel).GetSiteAsync(new GetSiteRequest { Id = site })).Executor;
}
