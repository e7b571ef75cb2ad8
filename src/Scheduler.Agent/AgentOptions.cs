namespace Scheduler.Agent;

/// <summary>How one agent runs (the command line's options; see docs/agents.md).</summary>
public sealed record AgentOptions
{
    /// <summary>The site this agent runs; the token's <c>site</c> claim must name it.</summary>
    public required string Site { get; init; }

    /// <summary>The scheduler's gRPC address. Default: http://127.0.0.1:5000.</summary>
    public string Address { get; init; } = "http://127.0.0.1:5000";

    /// <summary>The bearer token (role agent, claim site; an operator token works too).</summary>
    public string? Token { get; init; }

    /// <summary>Per-job working directories, checkpoints in progress and logs. Default: agent-data/SITE.</summary>
    public required string WorkDirectory { get; init; }

    /// <summary>
    /// The checkpoint store every site's agent can read and write (a shared or network file system): relocations move
    /// checkpoints through it. Default: agent-data/checkpoints.
    /// </summary>
    public required string CheckpointStore { get; init; }

    /// <summary>Time a process has, after SIGTERM, to write its checkpoint and exit before it is killed. Default: 30 s.</summary>
    public TimeSpan CheckpointGrace { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How often running jobs' progress (or, with none, a heartbeat) is sent. Default: 1 s.</summary>
    public TimeSpan ReportInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Wait before reconnecting after the stream broke; doubles up to 30 s while it keeps failing. Default: 1 s.</summary>
    public TimeSpan ReconnectDelay { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Estimated IT power per job when nothing measures it, kW (reported as estimated). Default: none.</summary>
    public double? EstimatedPowerKilowatts { get; init; }

    /// <summary>Identifies this agent in the scheduler's logs and site status. Default: host:pid.</summary>
    public string AgentId { get; init; } = $"{Environment.MachineName}:{Environment.ProcessId}";

    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (string.IsNullOrWhiteSpace(Site)) errors.Add("--site is required");
        if (!Uri.TryCreate(Address, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https")) errors.Add($"--address must be an http(s) URL, was '{Address}'");
        if (CheckpointGrace <= TimeSpan.Zero) errors.Add($"--grace must be > 0, was {CheckpointGrace}");
        if (ReportInterval <= TimeSpan.Zero) errors.Add($"report interval must be > 0, was {ReportInterval}");
        if (EstimatedPowerKilowatts is { } p && !(p >= 0 && double.IsFinite(p))) errors.Add($"--power-kw must be >= 0, was {p}");
        return errors;
    }
}
