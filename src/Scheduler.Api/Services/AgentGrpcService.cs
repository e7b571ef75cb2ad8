namespace Scheduler.Api.Services;

using Grpc.Core;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Scheduler.Api.Security;
using Scheduler.Api.V1;
using Scheduler.Grains;
using AgentCommand = Scheduler.Api.V1.AgentCommand;
using AgentHello = Scheduler.Api.V1.AgentHello;

/// <summary>
/// Site agents' stream. The site grain holds the truth (the latest command per job, the agent's reports); this
/// service only moves messages: it long-polls the site for commands and writes them out, and hands each report to
/// the site (and a checkpoint to the job's record). When the stream ends, for whatever reason, the site is told.
/// </summary>
internal sealed partial class AgentGrpcService(IGrainFactory grains, SchedulerClock clock, IOptions<AgentServiceOptions> options,
    ILogger<AgentGrpcService> logger) : AgentService.AgentServiceBase
{
    private const int MaxRunningInHello = 10_000, MaxTextLength = 1024;

    public override async Task Connect(IAsyncStreamReader<AgentMessage> requestStream, IServerStreamWriter<AgentCommand> responseStream, ServerCallContext context)
    {
        var caller = context.UserState.TryGetValue(typeof(CallerIdentity), out var c) && c is CallerIdentity identity
            ? identity : throw new RpcException(new Status(StatusCode.Unauthenticated, "no caller"));
        var cancellation = context.CancellationToken;
        if (!await requestStream.MoveNext(cancellation)) return;
        var hello = requestStream.Current.Hello;
        var check = new RequestValidation();
        if (hello is null) check.Add("hello", "the first message must be hello").ThrowIfInvalid();
        check.Id(hello!.Site, "hello.site")
            .Check(hello.AgentId.Length <= MaxTextLength && !hello.AgentId.Any(char.IsControl), "hello.agent_id", $"at most {MaxTextLength} characters, no control characters")
            .Check(hello.Running.Count <= MaxRunningInHello, "hello.running", $"at most {MaxRunningInHello} jobs");
        for (var i = 0; i < Math.Min(hello.Running.Count, MaxRunningInHello); i++)
            check.Id(hello.Running[i].JobId, $"hello.running[{i}].job_id").Check(hello.Running[i].Epoch >= 0, $"hello.running[{i}].epoch", "must be >= 0");
        check.ThrowIfInvalid();
        AccessPolicy.AuthorizeAgentSite(caller, hello.Site);
        var fleet = await grains.Get<IFleetGrain>(IFleetGrain.Key).GetConfigAsync().WaitAsync(cancellation);
        if (fleet.Sites.All(s => s.Id != hello.Site)) throw new RpcException(new Status(StatusCode.NotFound, $"no site '{hello.Site}'"));

        var siteId = hello.Site;
        var site = grains.Get<ISiteGrain>(siteId);
        var session = await site.AttachAgentAsync(new Grains.AgentHello(hello.AgentId, hello.Running.Select(r => new AgentRunningJob(r.JobId, r.Epoch)).ToList()));
        LogAttached(siteId, hello.AgentId, caller.Principal, hello.Running.Count);
        try
        {
            await responseStream.WriteAsync(new AgentCommand { Welcome = new AgentWelcome { Session = session } }, cancellation);
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
            var send = SendCommandsAsync(site, session, responseStream, stop.Token);
            var receive = ReceiveReportsAsync(site, siteId, session, requestStream, stop.Token);
            var first = await Task.WhenAny(send, receive);
            await stop.CancelAsync();
            try { await Task.WhenAll(send, receive); }
            catch (OperationCanceledException) when (!first.IsFaulted) { }
            catch when (first.IsFaulted) { await first; }
        }
        finally
        {
            // Not the call's token: the call may be gone, the site must still hear of it.
            await site.DetachAgentAsync(session);
            LogDetached(siteId, hello.AgentId);
        }
    }

    private async Task SendCommandsAsync(ISiteGrain site, string session, IServerStreamWriter<AgentCommand> stream, CancellationToken cancellation)
    {
        long after = 0;
        while (!cancellation.IsCancellationRequested)
        {
            foreach (var command in await site.WaitForAgentCommandsAsync(session, after, options.Value.CommandPoll, cancellation))
            {
                await stream.WriteAsync(ToProto(command), cancellation);
                after = command.Sequence;
            }
        }
    }

    private async Task ReceiveReportsAsync(ISiteGrain site, string siteId, string session, IAsyncStreamReader<AgentMessage> stream, CancellationToken cancellation)
    {
        while (true)
        {
            // A silent agent is a dead one: the stream ends, and the site's reconnect grace starts.
            using var idle = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
            idle.CancelAfter(options.Value.IdleTimeout);
            bool more;
            try { more = await stream.MoveNext(idle.Token); }
            catch (OperationCanceledException) when (!cancellation.IsCancellationRequested)
            {
                throw new RpcException(new Status(StatusCode.DeadlineExceeded, $"the agent sent nothing for {options.Value.IdleTimeout}"));
            }
            if (!more) return;
            var message = stream.Current;
            if (ToReport(message, out var problem) is not { } report)
            {
                if (problem is not null) LogBadReport(siteId, problem);
                else if (message.BodyCase == AgentMessage.BodyOneofCase.Refused)
                    LogRefused(siteId, message.Refused.JobId, message.Refused.Epoch, message.Refused.Reason);
                continue;
            }
            var accepted = await site.ReportAgentAsync(session, report);
            if (!accepted) { LogStaleReport(siteId, report.Kind, report.JobId, report.Epoch); continue; }
            if (report.Kind == AgentReportKind.Checkpointed)
                await grains.Get<IJobGrain>(report.JobId).RecordCheckpointAsync(siteId, report.CheckpointReference, report.CheckpointBytes, report.Epoch, clock.GetUtcNow());
        }
    }

    /// <summary>A report for the site, or null with why (a bad message is dropped and logged: the stream goes on).</summary>
    private static AgentReport? ToReport(AgentMessage message, out string? problem)
    {
        problem = null;
        (string JobId, long Epoch) Key(string jobId, long epoch) => (jobId, epoch);
        var (jobId, epoch) = message.BodyCase switch
        {
            AgentMessage.BodyOneofCase.Started => Key(message.Started.JobId, message.Started.Epoch),
            AgentMessage.BodyOneofCase.Progress => Key(message.Progress.JobId, message.Progress.Epoch),
            AgentMessage.BodyOneofCase.Checkpointed => Key(message.Checkpointed.JobId, message.Checkpointed.Epoch),
            AgentMessage.BodyOneofCase.Exited => Key(message.Exited.JobId, message.Exited.Epoch),
            AgentMessage.BodyOneofCase.Hello => ("", -1),
            _ => ("", 0),
        };
        if (message.BodyCase is AgentMessage.BodyOneofCase.Heartbeat or AgentMessage.BodyOneofCase.Refused or AgentMessage.BodyOneofCase.None) return null;
        if (message.BodyCase == AgentMessage.BodyOneofCase.Hello) { problem = "hello: only the first message may be hello"; return null; }
        if (!RequestValidation.IsId(jobId) || epoch < 0) { problem = $"{message.BodyCase}: job_id must be an id and epoch >= 0"; return null; }
        switch (message.BodyCase)
        {
            case AgentMessage.BodyOneofCase.Started:
                return new AgentReport(AgentReportKind.Started, jobId, epoch);
            case AgentMessage.BodyOneofCase.Progress:
                var p = message.Progress;
                if (!double.IsFinite(p.WorkDone) || !double.IsFinite(p.WorkTotal) || p.WorkDone < 0 || p.WorkTotal < 0
                    || (p.HasPowerKw && (!double.IsFinite(p.PowerKw) || p.PowerKw < 0)))
                {
                    problem = "progress: work_done, work_total and power_kw must be finite and >= 0";
                    return null;
                }
                return new AgentReport(AgentReportKind.Progress, jobId, epoch, p.WorkDone, p.WorkTotal, p.HasPowerKw ? p.PowerKw : null);
            case AgentMessage.BodyOneofCase.Checkpointed:
                var k = message.Checkpointed;
                if (k.Reference.Length > MaxTextLength || k.Reference.Any(char.IsControl) || k.Bytes < 0)
                {
                    problem = $"checkpointed: reference at most {MaxTextLength} characters without control characters, bytes >= 0";
                    return null;
                }
                return new AgentReport(AgentReportKind.Checkpointed, jobId, epoch, CheckpointReference: k.Reference, CheckpointBytes: k.Bytes);
            default:
                var e = message.Exited;
                return new AgentReport(AgentReportKind.Exited, jobId, epoch, ExitCode: e.Code, Reason: e.Reason.Length > MaxTextLength ? e.Reason[..MaxTextLength] : e.Reason);
        }
    }

    private static AgentCommand ToProto(Grains.AgentCommand c)
    {
        var p = new AgentCommand { Sequence = c.Sequence };
        switch (c.Kind)
        {
            case AgentCommandKind.Start:
                p.Start = new StartJob { JobId = c.JobId, Epoch = c.Epoch, RestoreFrom = c.RestoreFrom ?? "", Reason = c.Reason };
                if (c.Workload is { } w) p.Start.Workload = w.ToProto();
                break;
            case AgentCommandKind.Checkpoint:
                p.Checkpoint = new CheckpointJob { JobId = c.JobId, Epoch = c.Epoch, Reason = c.Reason };
                break;
            default:
                p.Stop = new StopJob { JobId = c.JobId, Epoch = c.Epoch, Reason = c.Reason };
                break;
        }
        return p;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Agent {AgentId} attached to site {Site} as {Principal} ({Running} jobs running)")]
    private partial void LogAttached(string site, string agentId, string principal, int running);

    [LoggerMessage(Level = LogLevel.Information, Message = "Agent {AgentId} of site {Site} detached")]
    private partial void LogDetached(string site, string agentId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Site {Site}: agent message dropped: {Problem}")]
    private partial void LogBadReport(string site, string problem);

    [LoggerMessage(Level = LogLevel.Information, Message = "Site {Site}: stale report {Kind} for job {JobId} epoch {Epoch} ignored")]
    private partial void LogStaleReport(string site, AgentReportKind kind, string jobId, long epoch);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Site {Site}: agent refused a command for job {JobId} epoch {Epoch}: {Reason}")]
    private partial void LogRefused(string site, string jobId, long epoch, string reason);
}
