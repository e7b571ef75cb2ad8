namespace Scheduler.Gateway.Hosting;

using Microsoft.Extensions.Options;
using Scheduler.Api.Client;
using Scheduler.Api.Security;

/// <summary>
/// Development mode's help for the CLI: writes an operator token for this gateway's address to the user's credential
/// file (as the co-hosted silo does for its own), so <c>scheduler --address http://127.0.0.1:PORT ...</c> needs no
/// flag. Not when <c>Scheduler:Auth:CredentialFile</c> is empty.
/// </summary>
internal sealed partial class GatewayDevelopmentCredentials(
    SchedulerCredentials credentials, IOptions<SchedulerAuthOptions> auth, IOptions<SchedulerGatewayOptions> gateway,
    ILogger<GatewayDevelopmentCredentials> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        var lifetime = auth.Value.DevelopmentTokenLifetime;
        var address = $"http://127.0.0.1:{gateway.Value.GrpcPort}";
        var token = credentials.MintOperator("operator", lifetime);
        var path = auth.Value.CredentialFile ?? CredentialFile.DefaultPath();
        if (string.IsNullOrEmpty(path)) return Task.CompletedTask;
        try
        {
            CredentialFile.Write(path, address, new CredentialFile.Entry(token, "operator", Roles.Operator, DateTimeOffset.UtcNow + lifetime)
            {
                Note = "written by the scheduler gateway in development mode (Scheduler:Auth:Mode=Development)",
            });
            LogWritten(address, path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            LogNotWritten(path, ex.Message);
        }
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(LogLevel.Information, "Development mode: an operator token for {Address} is in {Path} (the CLI reads it)")]
    private partial void LogWritten(string address, string path);

    [LoggerMessage(LogLevel.Warning, "Development mode: could not write the operator token to {Path}: {Reason}")]
    private partial void LogNotWritten(string path, string reason);
}
