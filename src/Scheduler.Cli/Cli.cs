namespace Scheduler.Cli;

using System.CommandLine;
using Grpc.Core;
using Grpc.Net.Client;
using Scheduler.Api.Client;
using Scheduler.Cli.Commands;

/// <summary>What a command's body gets: clients on one channel, the output mode, and Ctrl+C.</summary>
internal sealed class Session(GrpcChannel channel, bool json, CancellationToken cancel)
{
    /// <summary>A hung server must not hang a script: every unary call gets a deadline; streams run until Ctrl+C.</summary>
    private static readonly TimeSpan UnaryTimeout = TimeSpan.FromSeconds(30);

    public bool Json => json;
    public CancellationToken Cancel => cancel;
    public Api.V1.JobService.JobServiceClient Jobs { get; } = new(channel);
    public Api.V1.FleetService.FleetServiceClient Fleet { get; } = new(channel);

    public CallOptions Unary => new(deadline: DateTime.UtcNow + UnaryTimeout, cancellationToken: cancel);
}

/// <summary>The command tree, the global options, and the one place where failures become exit codes.</summary>
internal static class Cli
{
    public const int Ok = 0, RpcError = 1, UsageError = 2, Interrupted = 130;

    public static readonly Option<string> Address = AddressOption();

    /// <summary>The bearer token; without it, SCHEDULER_TOKEN, then the credential file's entry for --address (see <see cref="ResolveToken"/>).</summary>
    public static readonly Option<string> Token = new("--token")
    {
        Description = "Bearer token for the scheduler (default: $SCHEDULER_TOKEN, else the token the host wrote to ~/.config/green-scheduler/credentials.json for --address)",
        Recursive = true,
    };

    public const string TokenVariable = "SCHEDULER_TOKEN";

    /// <summary>--token, else $SCHEDULER_TOKEN, else the credential file's token for this address (as kubectl reads its config), else none.</summary>
    public static string? ResolveToken(ParseResult parse, string address) =>
        parse.GetValue(Token) is { Length: > 0 } token ? token
        : Environment.GetEnvironmentVariable(TokenVariable) is { Length: > 0 } variable ? variable
        : CredentialFile.DefaultPath() is { } path ? CredentialFile.ReadToken(path, address) : null;

    public static readonly Option<bool> Json = new("--json")
    {
        Description = "Print JSON (proto3 JSON mapping, default values included) instead of tables",
    };

    /// <summary>A bare "host:port" would otherwise fail later as an obscure channel error; here it is a usage error.</summary>
    private static Option<string> AddressOption()
    {
        var option = new Option<string>("--address")
        {
            Description = "The scheduler's gRPC endpoint",
            DefaultValueFactory = _ => "http://127.0.0.1:5000",
            Recursive = true,
        };
        option.Validators.Add(result =>
        {
            var value = result.GetValueOrDefault<string>();
            if (!Uri.TryCreate(value, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
                result.AddError($"--address must be an http:// or https:// URL, was '{value}'");
        });
        return option;
    }

    public static RootCommand Build()
    {
        var root = new RootCommand("Green-power compute scheduler: submit and watch jobs, inspect the fleet and its energy, replay scenarios.") { Address, Token };
        JobCommands.AddTo(root);
        FleetCommands.AddTo(root);
        // The flag on every API command; replay's --json names a file instead.
        foreach (var command in root.Subcommands) command.Add(Json);
        ReplayCommand.AddTo(root);
        BenchCommand.AddTo(root);
        return root;
    }

    /// <summary>
    /// Sets a command's body. The channel lives for one invocation; gRPC failures print once, here, and Ctrl+C
    /// (which System.CommandLine turns into the token) ends any command quietly with 130.
    /// </summary>
    public static void SetBody(this Command command, Func<ParseResult, Session, Task> body) =>
        command.SetAction(async (parse, cancel) =>
        {
            var address = parse.GetValue(Address)!;
            using var channel = SchedulerChannel.Create(address, ResolveToken(parse, address));
            try
            {
                await body(parse, new Session(channel, parse.GetValue(Json), cancel));
                return Ok;
            }
            catch (Exception ex) when (cancel.IsCancellationRequested && ex is OperationCanceledException or RpcException { StatusCode: StatusCode.Cancelled })
            {
                return Interrupted;
            }
            catch (RpcException ex)
            {
                Output.PrintError(ex, address);
                return RpcError;
            }
        });
}
