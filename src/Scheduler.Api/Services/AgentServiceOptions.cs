namespace Scheduler.Api.Services;

using Microsoft.Extensions.Options;

/// <summary>The agent stream's settings. Section <c>Scheduler:Agents</c>.</summary>
public sealed class AgentServiceOptions
{
    public const string Section = "Scheduler:Agents";

    /// <summary>
    /// Real time an agent stream may stay silent before the scheduler ends it as dead (the reference agent sends a
    /// heartbeat or progress every 5 s). The site's jobs then wait <c>Scheduler:AgentReconnectGrace</c> (scheduler
    /// time) for the agent to come back. Default: 30 seconds.
    /// </summary>
    public TimeSpan IdleTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Longest wait for new commands in one grain call (below Orleans' 30 s response timeout). Default: 20 seconds.</summary>
    public TimeSpan CommandPoll { get; set; } = TimeSpan.FromSeconds(20);
}

internal sealed class AgentServiceOptionsValidator : IValidateOptions<AgentServiceOptions>
{
    public ValidateOptionsResult Validate(string? name, AgentServiceOptions o)
    {
        var errors = new List<string>();
        if (o.IdleTimeout <= TimeSpan.Zero) errors.Add($"{AgentServiceOptions.Section}:IdleTimeout must be > 0, was {o.IdleTimeout}");
        if (o.CommandPoll <= TimeSpan.Zero || o.CommandPoll >= TimeSpan.FromSeconds(30))
            errors.Add($"{AgentServiceOptions.Section}:CommandPoll must be within (0, 30 s) (Orleans' response timeout), was {o.CommandPoll}");
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
