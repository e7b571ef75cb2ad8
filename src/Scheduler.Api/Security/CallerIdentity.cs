namespace Scheduler.Api.Security;

/// <summary>The roles a credential can carry. What each may do is in <see cref="AccessPolicy"/>.</summary>
public static class Roles
{
    /// <summary>Creates, reads, watches and cancels the jobs of its own tenant only.</summary>
    public const string Tenant = "tenant";

    /// <summary>Pushes telemetry for its own plant id only.</summary>
    public const string Plant = "plant";

    /// <summary>Everything: every tenant's jobs, every plant's telemetry, FleetService, ReplayService, any site's agent.</summary>
    public const string Operator = "operator";

    /// <summary>A site agent: connects to AgentService for its own site only.</summary>
    public const string Agent = "agent";

    public static readonly IReadOnlyList<string> All = [Tenant, Plant, Operator, Agent];
}

/// <summary>
/// Who is calling, from a validated token: the principal (claim <c>sub</c>), its role (claim <c>role</c>) and the
/// tenant (claim <c>tenant</c>, role tenant), plant (claim <c>plant</c>, role plant) or site (claim <c>site</c>, role
/// agent) it acts for.
/// </summary>
public sealed record CallerIdentity(string Principal, string Role, string? Tenant = null, string? Plant = null, string? Site = null)
{
    public bool IsOperator => Role == Roles.Operator;

    public static CallerIdentity Operator(string principal) => new(principal, Roles.Operator);

    public static CallerIdentity ForTenant(string tenant, string? principal = null) => new(principal ?? "tenant:" + tenant, Roles.Tenant, Tenant: tenant);

    public static CallerIdentity ForPlant(string plant, string? principal = null) => new(principal ?? "plant:" + plant, Roles.Plant, Plant: plant);

    public static CallerIdentity ForAgent(string site, string? principal = null) => new(principal ?? "agent:" + site, Roles.Agent, Site: site);

    public override string ToString() => Role switch
    {
        Roles.Tenant => $"{Principal} (tenant '{Tenant}')",
        Roles.Plant => $"{Principal} (plant '{Plant}')",
        Roles.Agent => $"{Principal} (agent of site '{Site}')",
        _ => $"{Principal} ({Role})",
    };
}
