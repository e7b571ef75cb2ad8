namespace Scheduler.Cli.Commands;

using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Scheduler.Api.V1;
using Spectre.Console;

/// <summary>submit, get, list, cancel, watch, explain: the tenant's side of the API.</summary>
internal static class JobCommands
{
    private const int SubmitRetries = 3;
    /// <summary>How often <c>watch</c> resumes after UNAVAILABLE before giving up (a minute of restarts at one a second).</summary>
    private const int WatchResumes = 60;

    public static void AddTo(RootCommand root)
    {
        root.Add(Submit());
        root.Add(Get());
        root.Add(List());
        root.Add(Cancel());
        root.Add(Watch());
        root.Add(Explain());
    }

    private static Command Submit()
    {
        var tenant = new Option<string>("--tenant") { Description = "Tenant id", Required = true };
        var gpus = new Option<int>("--gpus") { Description = "GPUs while running (gang)", Required = true };
        var work = new Option<double>("--work-gpu-hours") { Description = "Total work at full speed, GPU-hours", Required = true };
        var deadline = new Option<DateTimeOffset?>("--deadline")
        {
            Description = "Deadline, ISO 8601 in scheduler time (UTC if no offset), e.g. 2026-01-02T18:00:00Z",
            CustomParser = ParseIso8601,
        };
        var deadlineHours = new Option<double?>("--deadline-hours") { Description = "Deadline this many hours from now on the scheduler's clock" };
        var interruptible = new Option<bool>("--interruptible") { Description = "May pause and wait for green surplus" };
        var relocatable = new Option<bool>("--relocatable") { Description = "May move between sites" };
        var checkpoint = new Option<double>("--checkpoint-gb") { Description = "State moved on a relocation, GB" };
        var sites = new Option<string[]>("--allowed-site") { Description = "A site the job may run at (repeat; default: any site of the region)" };
        var tokens = new Option<double?>("--tokens-per-gpu-hour") { Description = "Tokens per GPU-hour, for token accounting" };
        var requestId = new Option<string>("--request-id") { Description = "Idempotency key (default: a fresh GUID)" };
        var run = new Option<string>("--command") { Description = "What a site agent runs for the job: a program (no shell; see docs/agents.md)" };
        var args = new Option<string[]>("--arg") { Description = "An argument of --command (repeat, in order)" };
        var env = new Option<string[]>("--env") { Description = "NAME=VALUE in the environment of --command (repeat)" };
        var command = new Command("submit", "Create a job; prints its id, then a summary")
        {
            tenant, gpus, work, deadline, deadlineHours, interruptible, relocatable, checkpoint, sites, tokens, requestId, run, args, env,
        };
        command.Validators.Add(result =>
        {
            if (result.GetResult(deadline) is not null && result.GetResult(deadlineHours) is not null)
                result.AddError("use either --deadline or --deadline-hours, not both");
            if (result.GetResult(run) is null && (result.GetResult(args) is not null || result.GetResult(env) is not null))
                result.AddError("--arg and --env need --command");
            foreach (var pair in result.GetValue(env) ?? [])
                if (pair.IndexOf('=') <= 0) result.AddError($"--env takes NAME=VALUE, was '{pair}'");
        });
        command.SetBody(async (parse, s) =>
        {
            var spec = new JobSpec
            {
                Tenant = parse.GetValue(tenant)!,
                Gpus = parse.GetValue(gpus),
                WorkGpuHours = parse.GetValue(work),
                Interruptible = parse.GetValue(interruptible),
                Relocatable = parse.GetValue(relocatable),
                CheckpointGb = parse.GetValue(checkpoint),
                AllowedSites = { parse.GetValue(sites) ?? [] },
            };
            if (parse.GetValue(tokens) is { } t) spec.TokensPerGpuHour = t;
            if (parse.GetValue(run) is { } program)
            {
                spec.Workload = new Workload { Command = program, Args = { parse.GetValue(args) ?? [] } };
                foreach (var pair in parse.GetValue(env) ?? []) spec.Workload.Env[pair[..pair.IndexOf('=')]] = pair[(pair.IndexOf('=') + 1)..];
            }
            if (parse.GetValue(deadline) is { } at) spec.Deadline = Timestamp.FromDateTimeOffset(at);
            if (parse.GetValue(deadlineHours) is { } hours)
            {
                // The server checks deadlines against its own clock, which the demo runs 720x fast: "now" must be its now.
                var fleet = await s.Fleet.GetFleetAsync(new GetFleetRequest(), s.Unary);
                spec.Deadline = Timestamp.FromDateTimeOffset(fleet.Time.ToDateTimeOffset().AddHours(hours));
            }
            var request = new CreateJobRequest { RequestId = parse.GetValue(requestId) ?? Guid.NewGuid().ToString("N"), Job = spec };
            var job = await CreateWithRetries(s, request);
            if (s.Json) { Output.Json(job); return; }
            Console.WriteLine(job.Id);
            Console.WriteLine(Output.Summary(job));
        });
        return command;
    }

    /// <summary>CreateJob is idempotent on request_id, so resending the same request after Unavailable cannot create a second job.</summary>
    private static async Task<Job> CreateWithRetries(Session s, CreateJobRequest request)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await s.Jobs.CreateJobAsync(request, s.Unary);
            }
            catch (RpcException ex) when (ex.StatusCode == StatusCode.Unavailable && attempt <= SubmitRetries)
            {
                Console.Error.WriteLine($"scheduler unavailable, retrying ({attempt}/{SubmitRetries}) with request id {request.RequestId}");
                await Task.Delay(TimeSpan.FromMilliseconds(250 << (attempt - 1)), s.Cancel);
            }
        }
    }

    private static DateTimeOffset? ParseIso8601(ArgumentResult result)
    {
        var text = result.Tokens[0].Value;
        if (DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var value)) return value;
        result.AddError($"--deadline: '{text}' is not an ISO 8601 date and time, e.g. 2026-01-02T18:00:00Z");
        return null;
    }

    private static Command Get()
    {
        var id = new Argument<string>("JOB_ID") { Description = "The job's id" };
        var command = new Command("get", "Show a job: its spec, state, energy ledger and history") { id };
        command.SetBody(async (parse, s) =>
        {
            var job = await s.Jobs.GetJobAsync(new GetJobRequest { Id = parse.GetValue(id)! }, s.Unary);
            if (s.Json) { Output.Json(job); return; }
            var spec = job.Spec;
            var l = job.Ledger ?? new EnergyLedger();
            Output.Terminal.Write(Output.Fields(
            [
                ("id", job.Id), ("tenant", spec.Tenant), ("state", Output.State(job.State)),
                ("site", Output.OrDash(job.Site)), ("region", Output.OrDash(job.Region)), ("gpus", spec.Gpus.ToString(CultureInfo.InvariantCulture)),
                ("work", $"{Output.Num(spec.WorkGpuHours)} GPU-h ({Output.Num(job.RemainingGpuHours)} remaining)"),
                ("deadline", Output.Time(spec.Deadline)), ("interruptible", spec.Interruptible ? "yes" : "no"), ("relocatable", spec.Relocatable ? "yes" : "no"),
                ("checkpoint", $"{Output.Num(spec.CheckpointGb)} GB"),
                ("allowed sites", spec.AllowedSites.Count == 0 ? "any in region" : string.Join(", ", spec.AllowedSites)),
                ("tokens/GPU-h", spec.HasTokensPerGpuHour ? Output.Num(spec.TokensPerGpuHour, 0) : "-"),
                ("created", Output.Time(job.CreateTime)), ("epoch", job.Epoch.ToString(CultureInfo.InvariantCulture)),
                ("transfer ends", Output.Time(job.TransferEndTime)),
            ]));
            Output.Terminal.WriteLine();
            Output.Terminal.Write(Output.Fields(
            [
                ("energy", $"green {Output.Num(l.GreenMwh, 3)} MWh, battery {Output.Num(l.BatteryMwh, 3)} MWh, grid {Output.Num(l.GridMwh, 3)} MWh, relocation {Output.Num(l.RelocationMwh, 3)} MWh"),
                ("green share", Output.Percent(l.GreenShare)),
                ("cost", $"{Output.Num(l.CostCny, 2)} CNY"),
                ("CO2", $"{Output.Num(l.Co2EmittedKg)} kg emitted, {Output.Num(l.Co2AvoidedKg)} kg avoided"),
                ("tokens", $"{Output.Num(l.Tokens, 0)} ({Output.Num(l.TokensPerKwh, 0)} per kWh)"),
                ("relocations", $"{l.Relocations} ({Output.Num(l.RelocatedGb)} GB moved)"),
            ]));
            Output.Terminal.WriteLine();
            var history = Output.Table("time", "kind", "from", "to", "reason", "detail").Title("history");
            foreach (var e in job.History)
                history.Row(Output.Time(e.Time), e.Kind, Output.OrDash(e.FromSite), Output.OrDash(e.ToSite), Output.OrDash(e.Reason), e.Detail);
            Output.Terminal.Write(history);
        });
        return command;
    }

    private static Command List()
    {
        var tenant = new Option<string>("--tenant") { Description = "Only this tenant's jobs" };
        var state = new Option<string>("--state") { Description = "Only jobs in this state" };
        state.AcceptOnlyFromAmong(System.Enum.GetValues<JobState>().Where(v => v != JobState.Unspecified).Select(Output.State).ToArray());
        var site = new Option<string>("--site") { Description = "Only jobs at this site" };
        var pageSize = new Option<int>("--page-size") { Description = "Jobs per page (server default 50, at most 1000)" };
        var pageToken = new Option<string>("--page-token") { Description = "Continue from a previous page's next_page_token" };
        var all = new Option<bool>("--all") { Description = "Follow next_page_token to the last page" };
        var command = new Command("list", "List jobs, oldest first") { tenant, state, site, pageSize, pageToken, all };
        command.SetBody(async (parse, s) =>
        {
            var request = new ListJobsRequest
            {
                Tenant = parse.GetValue(tenant) ?? "",
                State = parse.GetValue(state) is { } name ? System.Enum.Parse<JobState>(name, ignoreCase: true) : JobState.Unspecified,
                Site = parse.GetValue(site) ?? "",
                PageSize = parse.GetValue(pageSize),
                PageToken = parse.GetValue(pageToken) ?? "",
            };
            var result = await s.Jobs.ListJobsAsync(request, s.Unary);
            while (parse.GetValue(all) && result.NextPageToken.Length > 0)
            {
                request.PageToken = result.NextPageToken;
                var page = await s.Jobs.ListJobsAsync(request, s.Unary);
                result.Jobs.AddRange(page.Jobs);
                result.NextPageToken = page.NextPageToken;
                result.TotalSize = page.TotalSize;
            }
            if (s.Json) { Output.Json(result); return; }
            var table = Output.Table("id", "tenant", "state", "site", ">gpus", ">work GPU-h", ">remaining GPU-h", ">green share", "deadline", "created");
            // ListJobs answers from the dispatcher's summaries, whose spec carries only the tenant: a zero there means
            // "not sent" (the server never accepts 0 GPUs or 0 work), so it shows as "-" rather than as a false 0.
            foreach (var j in result.Jobs)
                table.Row(j.Id, j.Spec.Tenant, Output.State(j.State), Output.OrDash(j.Site), j.Spec.Gpus > 0 ? j.Spec.Gpus.ToString(CultureInfo.InvariantCulture) : "-",
                    j.Spec.WorkGpuHours > 0 ? Output.Num(j.Spec.WorkGpuHours) : "-", Output.Num(j.RemainingGpuHours), Output.Percent(j.Ledger?.GreenShare ?? 0), Output.Time(j.Spec.Deadline), Output.Time(j.CreateTime));
            Output.Terminal.Write(table);
            Console.WriteLine($"{result.Jobs.Count} of {result.TotalSize} jobs"
                + (result.NextPageToken.Length > 0 ? $"; more with --all or --page-token {result.NextPageToken}" : ""));
        });
        return command;
    }

    private static Command Cancel()
    {
        var id = new Argument<string>("JOB_ID") { Description = "The job's id" };
        var reason = new Option<string>("--reason") { Description = "Recorded in the job's history (default: cancelled by tenant)" };
        var command = new Command("cancel", "Cancel a job") { id, reason };
        command.SetBody(async (parse, s) =>
        {
            var job = await s.Jobs.CancelJobAsync(new CancelJobRequest { Id = parse.GetValue(id)!, Reason = parse.GetValue(reason) ?? "" }, s.Unary);
            if (s.Json) { Output.Json(job); return; }
            Console.WriteLine(job.Id);
            Console.WriteLine(Output.Summary(job));
        });
        return command;
    }

    private static Command Watch()
    {
        var id = new Argument<string>("JOB_ID") { Description = "The job's id" };
        var command = new Command("watch", "Stream a job's lifecycle events until it ends (or Ctrl+C); resumes if the server restarts") { id };
        command.SetBody(async (parse, s) =>
        {
            long last = 0;
            for (var resumes = 0; ; resumes++)
            {
                try
                {
                    using var call = s.Jobs.WatchJob(new WatchJobRequest { Id = parse.GetValue(id)!, AfterSequence = last }, cancellationToken: s.Cancel);
                    await foreach (var e in call.ResponseStream.ReadAllAsync(s.Cancel))
                    {
                        last = e.Sequence;
                        if (s.Json) Output.JsonLine(e);
                        else Console.WriteLine($"{Output.Time(e.Time)}  {Output.State(e.State),-10}  {e.Kind,-10}  {Output.OrDash(e.FromSite)}→{Output.OrDash(e.ToSite)}  {Output.OrDash(e.Reason)}  {e.Detail}");
                    }
                    return; // OK: the job ended
                }
                // The serving gateway or silo stopped (or is restarting): watch again from the last event seen, so no
                // event is missed or printed twice. Other errors (unknown job, no permission) end the command.
                catch (RpcException ex) when (ex.StatusCode == StatusCode.Unavailable && resumes < WatchResumes)
                {
                    Console.Error.WriteLine($"watch interrupted ({ex.Status.Detail}); resuming after event {last}");
                    await Task.Delay(TimeSpan.FromSeconds(1), s.Cancel);
                }
            }
        });
        return command;
    }

    private static Command Explain()
    {
        var id = new Argument<string>("JOB_ID") { Description = "The job's id" };
        var command = new Command("explain", "Why the job is where it is: every decision with its reason, numbers and trace id") { id };
        command.SetBody(async (parse, s) =>
        {
            var x = await s.Jobs.ExplainJobAsync(new ExplainJobRequest { Id = parse.GetValue(id)! }, s.Unary);
            if (s.Json) { Output.Json(x); return; }
            Output.Terminal.Write(Output.Fields(
            [
                ("job", x.JobId), ("state", Output.State(x.State)), ("site", Output.OrDash(x.Site)), ("trace", Output.OrDash(x.TraceId)),
            ]));
            Output.Terminal.WriteLine();
            var table = Output.Table("time", "kind", "from", "to", "reason", "detail", "trace id").Title("decisions");
            foreach (var e in x.Events)
                table.Row(Output.Time(e.Time), e.Kind, Output.OrDash(e.FromSite), Output.OrDash(e.ToSite), Output.OrDash(e.Reason), e.Detail, Output.OrDash(e.TraceId));
            Output.Terminal.Write(table);
        });
        return command;
    }
}
