namespace Scheduler.Api.Services;

using Grpc.Core;
using Scheduler.Api.V1;
using Scheduler.Core.Policy;
using Scheduler.Grains;

/// <summary>
/// Clock control for replays. The virtual clock is registered only in replay mode, so its absence is the switch:
/// a live host refuses every call and its clock cannot be touched from outside.
/// </summary>
internal sealed class ReplayGrpcService(IGrainFactory grains, SchedulerClock clock) : ReplayService.ReplayServiceBase
{
    private ReplayClock RequireReplayMode() => clock.Time as ReplayClock
        ?? throw new RpcException(new Status(StatusCode.FailedPrecondition,
            "clock control exists only in replay mode: start the host with --replay"));

    public override async Task<SetRegionPolicyResponse> SetRegionPolicy(SetRegionPolicyRequest request, ServerCallContext context)
    {
        RequireReplayMode();
        new RequestValidation().Id(request.Region, "region")
            .Check(PolicyOptions.PolicyNames.Contains(request.Policy), "policy", $"must be one of {string.Join(", ", PolicyOptions.PolicyNames)}")
            .ThrowIfInvalid();
        var dispatcher = grains.Get<IDispatcherGrain>(request.Region);
        await dispatcher.SetPolicyAsync(request.Policy).WaitAsync(context.CancellationToken);
        return new SetRegionPolicyResponse { Region = request.Region, Policy = await dispatcher.GetPolicyAsync() };
    }

    public override Task<SetClockResponse> SetClock(SetClockRequest request, ServerCallContext context)
    {
        var replay = RequireReplayMode();
        var check = new RequestValidation().Time(request.Time, "time");
        check.ThrowIfInvalid();
        var time = request.Time!.ToDateTimeOffset();
        check.Check(time >= replay.GetUtcNow(), "time", $"the replay clock only moves forward; it is at {replay.GetUtcNow():O}").ThrowIfInvalid();
        replay.MoveTo(time);
        return Task.FromResult(new SetClockResponse { Time = request.Time });
    }

    public override async Task<TickResponse> Tick(TickRequest request, ServerCallContext context)
    {
        var now = RequireReplayMode().GetUtcNow();
        var reports = await grains.Get<IFleetGrain>(IFleetGrain.Key).TickAsync(now).WaitAsync(context.CancellationToken);
        var response = new TickResponse
        {
            Time = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTimeOffset(now),
            Decisions = reports.Sum(r => r.Decisions.Count),
            ActiveJobs = reports.Sum(r => r.ActiveJobs),
        };
        response.Sites.AddRange(reports.SelectMany(r => r.Sites).Select(s => s.ToProto(now)));
        return response;
    }
}
