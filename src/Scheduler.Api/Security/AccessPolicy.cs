namespace Scheduler.Api.Security;

using Grpc.Core;
using Scheduler.Api.V1;
using Scheduler.Grains;

/// <summary>
/// Who may do what, in one table. Operators: everything. Tenants: JobService, for their own tenant's jobs only.
/// Plants: TelemetryService, for their own plant id only. Agents: AgentService, for their own site only (checked on
/// the stream's hello, <see cref="AuthorizeAgentSite"/>). Anything else is PERMISSION_DENIED, decided before the
/// service runs, so a denied call changes nothing.
/// </summary>
public sealed class AccessPolicy(IGrainFactory grains)
{
    public const string JobService = "scheduler.v1.JobService", TelemetryService = "scheduler.v1.TelemetryService",
        AgentService = "scheduler.v1.AgentService";

    /// <summary>The call class of a method ("/package.Service/Method"), for the limits.</summary>
    public static CallClass ClassOf(string method) => ServiceOf(method) switch
    {
        JobService => CallClass.Jobs,
        TelemetryService => CallClass.Telemetry,
        _ => CallClass.Fleet,
    };

    public static string ServiceOf(string method)
    {
        var slash = method.IndexOf('/', 1);
        return slash > 1 ? method[1..slash] : method;
    }

    /// <summary>
    /// Checks a call's request (for a client stream: called again for each message, see <see cref="AuthorizeSample"/>).
    /// A tenant's list or create without a tenant is scoped to the caller's tenant (the request is filled in).
    /// </summary>
    public async ValueTask AuthorizeAsync(CallerIdentity caller, string method, object? request, CancellationToken cancellation)
    {
        if (caller.IsOperator) return;
        var service = ServiceOf(method);
        switch (caller.Role, service)
        {
            case (Roles.Tenant, JobService):
                await AuthorizeTenantAsync(caller, request, cancellation);
                return;
            case (Roles.Plant, TelemetryService):
                if (request is V1.GenerationSample sample) AuthorizeSample(caller, sample);
                return;
            case (Roles.Agent, AgentService):
                return; // the site is in the stream's first message: AuthorizeAgentSite
            default:
                var forRole = service switch { JobService => Roles.Tenant, TelemetryService => Roles.Plant, AgentService => Roles.Agent, _ => null };
                throw Denied($"{caller} may not call {method}: {(forRole is null ? "operators only" : $"it is for role {forRole}")}");
        }
    }

    /// <summary>An agent attaches to its own site only; an operator to any.</summary>
    public static void AuthorizeAgentSite(CallerIdentity caller, string site)
    {
        if (caller.IsOperator) return;
        if (caller.Role != Roles.Agent || caller.Site != site)
            throw Denied($"{caller} may not attach an agent to site '{site}'");
    }

    /// <summary>A plant reports for itself only.</summary>
    public static void AuthorizeSample(CallerIdentity caller, V1.GenerationSample sample)
    {
        if (caller.IsOperator) return;
        if (caller.Role != Roles.Plant || sample.PlantId != caller.Plant)
            throw Denied($"{caller} may not report telemetry for plant '{sample.PlantId}'");
    }

    private async ValueTask AuthorizeTenantAsync(CallerIdentity caller, object? request, CancellationToken cancellation)
    {
        var tenant = caller.Tenant!;
        switch (request)
        {
            case CreateJobRequest { Job: { } job }:
                if (job.Tenant.Length == 0) job.Tenant = tenant;
                else if (job.Tenant != tenant) throw Denied($"{caller} may not create jobs for another tenant");
                return;
            case ListJobsRequest list:
                if (list.Tenant.Length == 0) list.Tenant = tenant;
                else if (list.Tenant != tenant) throw Denied($"{caller} may not list another tenant's jobs");
                return;
            case GetJobRequest r: await OwnJobAsync(caller, r.Id, "read", cancellation); return;
            case CancelJobRequest r: await OwnJobAsync(caller, r.Id, "cancel", cancellation); return;
            case ExplainJobRequest r: await OwnJobAsync(caller, r.Id, "explain", cancellation); return;
            case WatchJobRequest r: await OwnJobAsync(caller, r.Id, "watch", cancellation); return;
            default: return; // a create without a job: the service rejects it as INVALID_ARGUMENT
        }
    }

    /// <summary>
    /// A job's tenant is in its record. A missing job (or a malformed id) is left to the service, which answers
    /// NOT_FOUND (INVALID_ARGUMENT): ids are unguessable hashes, so this reveals nothing of other tenants.
    /// </summary>
    private async ValueTask OwnJobAsync(CallerIdentity caller, string id, string verb, CancellationToken cancellation)
    {
        if (!Services.RequestValidation.IsId(id)) return;
        var record = await grains.Get<IJobGrain>(id).GetAsync().WaitAsync(cancellation);
        if (record is not null && record.State.Spec.TenantId != caller.Tenant)
            throw Denied($"{caller} may not {verb} job '{id}': it belongs to another tenant");
    }

    internal static RpcException Denied(string message) => new(new Status(StatusCode.PermissionDenied, message));
}
