namespace Scheduler.Agent;

using System.CommandLine;
using Scheduler.Api.Client;

/// <summary>
/// <c>dotnet run --project src/Scheduler.Agent -- --site SITE [--address URL] [--token TOKEN]</c>: the agent for one
/// site. The token is --token, else $SCHEDULER_TOKEN, else the credential file's entry for the address (the host's
/// development operator token), as the CLI finds it.
/// </summary>
public static class AgentCommandLine
{
    public static RootCommand Build()
    {
        var site = new Option<string>("--site") { Description = "The site this agent runs (the token's site claim)", Required = true };
        var address = new Option<string>("--address") { Description = "The scheduler's gRPC address", DefaultValueFactory = _ => "http://127.0.0.1:5000" };
        var token = new Option<string?>("--token") { Description = "Bearer token (role agent with claim site; default: $SCHEDULER_TOKEN, then the credential file)" };
        var workDir = new Option<string?>("--work-dir") { Description = "Job directories and logs (default: agent-data/SITE)" };
        var store = new Option<string>("--checkpoint-store") { Description = "Checkpoint directory shared by every site's agent", DefaultValueFactory = _ => Path.Combine("agent-data", "checkpoints") };
        var grace = new Option<double>("--grace") { Description = "Seconds a process has after SIGTERM to checkpoint and exit", DefaultValueFactory = _ => 30 };
        var power = new Option<double?>("--power-kw") { Description = "Estimated IT power per job, kW, reported with progress (default: none)" };
        var agentId = new Option<string?>("--agent-id") { Description = "This agent's name in the scheduler's status (default: host:pid)" };
        var root = new RootCommand("Site agent of the green-surplus scheduler: runs the site's jobs as local processes, checkpoints and restores them on command")
        {
            site, address, token, workDir, store, grace, power, agentId,
        };
        root.SetAction(async (parse, cancellation) =>
        {
            var siteId = parse.GetValue(site)!;
            var url = parse.GetValue(address)!;
            var options = new AgentOptions
            {
                Site = siteId,
                Address = url,
                Token = parse.GetValue(token)
                    ?? (Environment.GetEnvironmentVariable("SCHEDULER_TOKEN") is { Length: > 0 } fromEnvironment ? fromEnvironment
                        : CredentialFile.DefaultPath() is { } file ? CredentialFile.ReadToken(file, url) : null),
                WorkDirectory = parse.GetValue(workDir) ?? Path.Combine("agent-data", siteId),
                CheckpointStore = parse.GetValue(store)!,
                CheckpointGrace = TimeSpan.FromSeconds(parse.GetValue(grace)),
                EstimatedPowerKilowatts = parse.GetValue(power),
                AgentId = parse.GetValue(agentId) ?? $"{Environment.MachineName}:{Environment.ProcessId}",
            };
            if (options.Validate() is { Count: > 0 } errors)
            {
                foreach (var e in errors) await Console.Error.WriteLineAsync($"error: {e}");
                return 2;
            }
            if (options.Token is null) await Console.Error.WriteLineAsync("warning: no token (--token, SCHEDULER_TOKEN or the credential file); the scheduler will refuse the agent");
            await using var agent = new SiteAgent(options);
            try { await agent.RunAsync(cancellation); }
            catch (Grpc.Core.RpcException) { return 1; }
            return 0;
        });
        return root;
    }
}
