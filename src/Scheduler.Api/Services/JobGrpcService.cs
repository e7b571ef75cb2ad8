namespace Scheduler.Api.Services;

using System.Runtime.CompilerServices;
using Grpc.Core;
using Microsoft.Extensions.Hosting;
using Scheduler.Api.V1;
using Scheduler.Core.Model;
using Scheduler.Grains;
using JobEvent = Scheduler.Api.V1.JobEvent;

/// <summary>Tenants' job API: create (idempotent), get, list, cancel, watch.</summary>
internal sealed class JobGrpcService(IGrainFactory grains, SchedulerClock clock, IHostApplicationLifetime lifetime) : JobService.JobServiceBase
{
    private const int DefaultPageSize = 50, MaxPageSize = 1000;
    // Bounds on a job spec: generous for real jobs (10M GPU-hours is a frontier training run), small enough that no
    // arithmetic downstream overflows or loses meaning. GPUs are bounded by the largest candidate site instead.
    private const double MaxWorkGpuHours = 10_000_000, MaxCheckpointGb = 1_000_000, MaxTokensPerGpuHour = 1e12;
    private const int MaxAllowedSites = 64;
    private static readonly TimeSpan MaxDeadlineAhead = TimeSpan.FromDays(3650);
    private static readonly TimeSpan WatchPoll = TimeSpan.FromSeconds(20);
    // Sites by id, built once per fleet configuration: the fleet grain hands out one instance until the fleet changes
    // (a gateway gets a fresh copy per call and then builds it per call, as before).
    private static readonly ConditionalWeakTable<FleetConfig, Dictionary<string, SiteSpec>> SitesById = new();

    public override async Task<Job> CreateJob(CreateJobRequest request, ServerCallContext context)
    {
        var fleet = await grains.Get<IFleetGrain>(IFleetGrain.Key).GetConfigAsync().WaitAsync(context.CancellationToken);
        var spec = request.Job;
        var check = new RequestValidation().Id(request.RequestId, "request_id", required: false);
        if (spec is null)
        {
            check.Add("job", "required").ThrowIfInvalid();
            return null!;
        }
        check.Id(spec.Tenant, "job.tenant")
            .Check(spec.Gpus > 0, "job.gpus", $"must be > 0, was {spec.Gpus}")
            .Check(double.IsFinite(spec.WorkGpuHours) && spec.WorkGpuHours > 0 && spec.WorkGpuHours <= MaxWorkGpuHours, "job.work_gpu_hours",
                $"must be a finite number in (0, {MaxWorkGpuHours}], was {spec.WorkGpuHours}")
            .Finite(spec.CheckpointGb, "job.checkpoint_gb", 0, MaxCheckpointGb)
            .Check(!spec.HasTokensPerGpuHour || (double.IsFinite(spec.TokensPerGpuHour) && spec.TokensPerGpuHour is >= 0 and <= MaxTokensPerGpuHour),
                "job.tokens_per_gpu_hour", $"must be a finite number within [0, {MaxTokensPerGpuHour}]")
            .Check(spec.AllowedSites.Count <= MaxAllowedSites, "job.allowed_sites", $"at most {MaxAllowedSites} sites")
            .Check(spec.AllowedSites.Distinct(StringComparer.Ordinal).Count() == spec.AllowedSites.Count, "job.allowed_sites", "names a site twice")
            .Workload(spec.Workload, "job.workload");
        var now = clock.GetUtcNow();
        if (spec.Deadline is { } deadline)
        {
            check.Time(deadline, "job.deadline");
            if (RequestValidation.IsTime(deadline))
                check.Check(deadline.ToDateTimeOffset() > now, "job.deadline", $"must be after the job's arrival (now, {now:O})")
                    .Check(deadline.ToDateTimeOffset() <= now + MaxDeadlineAhead, "job.deadline", $"must be within {MaxDeadlineAhead.TotalDays:0} days of now ({now:O})");
        }

        // Sites: every allowed site must exist and share one region; the job must fit in the largest candidate.
        var sites = SitesById.GetValue(fleet, f => f.Sites.ToDictionary(s => s.Id, StringComparer.Ordinal));
        for (var i = 0; i < Math.Min(spec.AllowedSites.Count, MaxAllowedSites); i++)
        {
            // A malformed name is named as such; a well-formed one must exist.
            if (!RequestValidation.IsId(spec.AllowedSites[i])) check.Id(spec.AllowedSites[i], $"job.allowed_sites[{i}]");
            else check.Check(sites.ContainsKey(spec.AllowedSites[i]), $"job.allowed_sites[{i}]", $"no site '{spec.AllowedSites[i]}'");
        }
        if (spec.Region.Length > 0)
            check.Id(spec.Region, "job.region").Check(fleet.Sites.Any(s => s.Region == spec.Region), "job.region", $"no site in region '{spec.Region}'");
        var candidates = (spec.AllowedSites.Count > 0 ? spec.AllowedSites.Where(sites.ContainsKey).Select(id => sites[id]) : fleet.Sites)
            .Where(s => spec.Region.Length == 0 || s.Region == spec.Region).ToList();
        var regions = candidates.Select(s => s.Region).Distinct().ToList();
        check.Check(fleet.Sites.Count > 0, "job.allowed_sites", "the fleet has no sites yet")
            .Check(regions.Count <= 1, spec.AllowedSites.Count > 0 ? "job.allowed_sites" : "job.region",
                spec.AllowedSites.Count > 0 ? $"sites span several regions ({string.Join(", ", regions)}); name sites of one region"
                    : $"the fleet has several regions ({string.Join(", ", regions)}); name one")
            .Check(spec.Region.Length == 0 || spec.AllowedSites.Count == 0 || candidates.Count == spec.AllowedSites.Count(sites.ContainsKey),
                "job.allowed_sites", $"every allowed site must be in region '{spec.Region}'")
            .Check(candidates.Count == 0 || spec.Gpus <= candidates.Max(s => s.GpuCount), "job.gpus",
                $"{spec.Gpus} GPUs exceed the largest candidate site ({(candidates.Count == 0 ? 0 : candidates.Max(s => s.GpuCount))} GPUs)");
        check.ThrowIfInvalid();

        var id = JobIds.For(spec.Tenant, request.RequestId);
        var record = await grains.Get<IJobGrain>(id).CreateAsync(spec.ToModel(id, now), request.RequestId, regions[0]).WaitAsync(context.CancellationToken);
        // Acknowledged only once the region's dispatcher tracks it; a retry with the same request id repeats this safely.
        await grains.Get<IDispatcherGrain>(record.Region).TrackAsync(record).WaitAsync(context.CancellationToken);
        return record.ToProto(withHistory: false);
    }

    public override async Task<Job> GetJob(GetJobRequest request, ServerCallContext context)
    {
        new RequestValidation().Id(request.Id, "id").ThrowIfInvalid();
        var record = await grains.Get<IJobGrain>(request.Id).GetAsync().WaitAsync(context.CancellationToken)
            ?? throw new RpcException(new Status(StatusCode.NotFound, $"no job '{request.Id}'"));
        return record.ToProto(withHistory: true);
    }

    public override async Task<ListJobsResponse> ListJobs(ListJobsRequest request, ServerCallContext context)
    {
        var check = new RequestValidation()
            .Check(request.PageSize is >= 0 and <= MaxPageSize, "page_size", $"must be within [0, {MaxPageSize}]")
            .Id(request.Tenant, "tenant", required: false)
            .Id(request.Site, "site", required: false);
        var (regionIndex, offset) = PageToken.TryParse(request.PageToken, out var token) ? token : (0, 0);
        check.Check(request.PageToken.Length == 0 || PageToken.TryParse(request.PageToken, out _), "page_token", "not a token this server issued");
        check.ThrowIfInvalid();

        var size = request.PageSize == 0 ? DefaultPageSize : request.PageSize;
        var fleet = await grains.Get<IFleetGrain>(IFleetGrain.Key).GetConfigAsync().WaitAsync(context.CancellationToken);
        var regions = fleet.Sites.Select(s => s.Region).Distinct().Order(StringComparer.Ordinal).ToList();
        var response = new ListJobsResponse();
        var total = 0;
        for (var r = 0; r < regions.Count; r++)
        {
            // Regions before the token's are only counted; from it on, pages fill until the page is full.
            var room = r < regionIndex ? 0 : size - response.Jobs.Count;
            var page = await grains.Get<IDispatcherGrain>(regions[r]).ListJobsAsync(
                new(request.Tenant.NullIfEmpty(), request.State.ToModel(), request.Site.NullIfEmpty(), room, r == regionIndex ? offset : 0))
                .WaitAsync(context.CancellationToken);
            total += page.Total;
            response.Jobs.AddRange(page.Jobs.Select(j => j.ToProto()));
            if (r < regionIndex || response.NextPageToken.Length > 0) continue;
            if (page.NextOffset is { } next && room > 0) response.NextPageToken = PageToken.Format(r, next);
            else if (response.Jobs.Count >= size && r + 1 < regions.Count) response.NextPageToken = PageToken.Format(r + 1, 0);
        }
        response.TotalSize = total;
        return response;
    }

    public override async Task<Job> CancelJob(CancelJobRequest request, ServerCallContext context)
    {
        new RequestValidation().Id(request.Id, "id").Check(request.Reason.Length <= 512, "reason", "at most 512 characters").ThrowIfInvalid();
        var job = grains.Get<IJobGrain>(request.Id);
        if (await job.GetAsync().WaitAsync(context.CancellationToken) is not { } existing) throw new RpcException(new Status(StatusCode.NotFound, $"no job '{request.Id}'"));
        var dispatcher = grains.Get<IDispatcherGrain>(existing.Region);
        // Records get counts only now and then: the work counted since the last one goes to the job's record first.
        await dispatcher.ForwardCountAsync(request.Id).WaitAsync(context.CancellationToken);
        var record = await job.CancelAsync(clock.GetUtcNow(), request.Reason.Length > 0 ? request.Reason : "cancelled by tenant").WaitAsync(context.CancellationToken);
        await dispatcher.TrackAsync(record).WaitAsync(context.CancellationToken);
        return record.ToProto(withHistory: false);
    }

    public override async Task<JobExplanation> ExplainJob(ExplainJobRequest request, ServerCallContext context)
    {
        new RequestValidation().Id(request.Id, "id").ThrowIfInvalid();
        var record = await grains.Get<IJobGrain>(request.Id).GetAsync().WaitAsync(context.CancellationToken)
            ?? throw new RpcException(new Status(StatusCode.NotFound, $"no job '{request.Id}'"));
        var traceId = record.TraceParent is { } p && System.Diagnostics.ActivityContext.TryParse(p, null, out var c) ? c.TraceId.ToHexString() : "";
        return new JobExplanation
        {
            JobId = record.State.Id, State = record.State.Status.ToProto(), Site = record.State.SiteId ?? "", TraceId = traceId,
            Events = { record.History.Select(e => e.ToProto(record.State.Id)) },
        };
    }

    public override async Task WatchJob(WatchJobRequest request, IServerStreamWriter<JobEvent> responseStream, ServerCallContext context)
    {
        new RequestValidation().Id(request.Id, "id").Check(request.AfterSequence >= 0, "after_sequence", "must be >= 0").ThrowIfInvalid();
        var job = grains.Get<IJobGrain>(request.Id);
        if (await job.GetAsync().WaitAsync(context.CancellationToken) is null) throw new RpcException(new Status(StatusCode.NotFound, $"no job '{request.Id}'"));
        var sequence = request.AfterSequence;
        // A watch ends with OK only when its job has ended. A server that stops (a gateway restarting, a silo scaled in)
        // ends it with UNAVAILABLE at once, naming the resume point: the client watches again, on any server, from there.
        using var watch = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken, lifetime.ApplicationStopping);
        try
        {
            while (!context.CancellationToken.IsCancellationRequested)
            {
                var events = await job.WaitForEventsAsync(sequence, WatchPoll, watch.Token);
                foreach (var e in events)
                {
                    await responseStream.WriteAsync(e.ToProto(request.Id), context.CancellationToken);
                    sequence = e.Sequence;
                }
                if (events.Count == 0 && (await job.GetAsync().WaitAsync(watch.Token))?.State.IsTerminal == true) return;
                if (events.Count > 0 && events[^1].Status is Core.Lifecycle.JobStatus.Completed or Core.Lifecycle.JobStatus.Cancelled or Core.Lifecycle.JobStatus.Failed) return;
                watch.Token.ThrowIfCancellationRequested();
            }
        }
        catch (OperationCanceledException) when (lifetime.ApplicationStopping.IsCancellationRequested && !context.CancellationToken.IsCancellationRequested)
        {
            throw new RpcException(new Status(StatusCode.Unavailable, $"the server is shutting down; watch again with after_sequence = {sequence}"));
        }
    }
}

/// <summary>Opaque paging token: region index and offset within it.</summary>
internal static class PageToken
{
    public static string Format(int region, int offset) => Convert.ToBase64String(System.Text.Encoding.ASCII.GetBytes($"v1:{region}:{offset}"));

    public static bool TryParse(string token, out (int Region, int Offset) value)
    {
        value = default;
        if (token.Length == 0 || token.Length > 64) return false;
        try
        {
            var parts = System.Text.Encoding.ASCII.GetString(Convert.FromBase64String(token)).Split(':');
            if (parts.Length != 3 || parts[0] != "v1" || !int.TryParse(parts[1], out var r) || !int.TryParse(parts[2], out var o) || r < 0 || o < 0) return false;
            value = (r, o);
            return true;
        }
        catch (FormatException) { return false; }
    }
}

internal static class StringExtensions
{
    public static string? NullIfEmpty(this string s) => s.Length == 0 ? null : s;
}
