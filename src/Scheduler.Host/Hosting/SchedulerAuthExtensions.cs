namespace Scheduler.Host.Hosting;

using Microsoft.Extensions.Options;
using Scheduler.Api.Client;
using Scheduler.Api.Hosting;
using Scheduler.Api.Security;

public static class SchedulerAuthExtensions
{
    /// <summary>The development key's file, in the data directory: kept across restarts so printed tokens stay valid.</summary>
    public const string DevelopmentKeyFile = "dev-signing-key";

    /// <summary>
    /// Authentication (section <c>Scheduler:Auth</c>, validated now): the signing keys from configuration, or in
    /// development mode without keys a key generated on first start in the data directory; the
    /// <see cref="SchedulerCredentials"/> every part of the system mints and checks tokens with; and in development
    /// mode the start-up printout of a token per role plus the operator credential file the CLI reads.
    /// </summary>
    public static WebApplicationBuilder AddSchedulerAuth(this WebApplicationBuilder builder)
    {
        var host = builder.Configuration.GetSection(SchedulerHostOptions.Section).Get<SchedulerHostOptions>() ?? new();
        var auth = builder.AddSchedulerCredentials(developmentKey: () => DevelopmentKey(host.DataDir));
        if (auth.Mode == AuthMode.Development) builder.Services.AddHostedService<DevelopmentCredentials>();
        return builder;
    }

    /// <summary>Reads the development key, creating it (readable by the user only) on first start.</summary>
    private static SigningKeyOptions DevelopmentKey(string dataDir)
    {
        var path = Path.Combine(dataDir, DevelopmentKeyFile);
        if (!File.Exists(path))
        {
            Directory.CreateDirectory(dataDir);
            var temp = path + ".tmp";
            File.WriteAllText(temp, SchedulerCredentials.NewKey());
            if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(temp, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            // Two silos sharing a data directory race here: the first rename wins and both read the winner's key.
            try { File.Move(temp, path, overwrite: false); }
            catch (IOException) when (File.Exists(path)) { File.Delete(temp); }
        }
        return new SigningKeyOptions { Id = "dev", Key = File.ReadAllText(path).Trim() };
    }
}

/// <summary>
/// Development mode's start-up help: prints a token per role (operator; tenant <c>demo</c>; the first built-in plant; an
/// agent of the first built-in site) and
/// writes the operator token to the user's credential file for this host's address, so that
/// <c>dotnet run --project src/Scheduler.Cli -- ...</c> works with no flag. Not in replay mode (its in-process host
/// hands its driver a token directly) and not when <c>Scheduler:Auth:CredentialFile</c> is empty.
/// </summary>
internal sealed partial class DevelopmentCredentials(
    SchedulerCredentials credentials, IOptions<SchedulerAuthOptions> auth, IOptions<SchedulerHostOptions> host, IConfiguration configuration,
    ILogger<DevelopmentCredentials> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        var lifetime = auth.Value.DevelopmentTokenLifetime;
        var address = $"http://127.0.0.1:{host.Value.GrpcPort}";
        var operatorToken = credentials.MintOperator("operator", lifetime);
        var path = auth.Value.CredentialFile ?? CredentialFile.DefaultPath();
        string written;
        if (host.Value.Replay) written = "not written (replay mode)";
        else if (!host.Value.ServeGrpc) written = "not written (this silo serves no gRPC; use the token on a gateway)";
        else if (string.IsNullOrEmpty(path)) written = "not written (Scheduler:Auth:CredentialFile is empty)";
        else
        {
            try
            {
                CredentialFile.Write(path, address, new CredentialFile.Entry(operatorToken, "operator", Roles.Operator, DateTimeOffset.UtcNow + lifetime)
                {
                    Note = "written by the scheduler host in development mode (Scheduler:Auth:Mode=Development)",
                });
                written = "written to " + path;
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                written = $"could not be written to {path}: {ex.Message}";
            }
        }
        LogDevelopmentTokens(logger, address, written, operatorToken,
            credentials.Mint(CallerIdentity.ForTenant("demo"), lifetime),
            credentials.Mint(CallerIdentity.ForPlant(Demo.InnerMongoliaFleet.Plants[0].Id), lifetime), Demo.InnerMongoliaFleet.Plants[0].Id,
            credentials.Mint(CallerIdentity.ForAgent(Demo.InnerMongoliaFleet.Sites[0].Id), lifetime), Demo.InnerMongoliaFleet.Sites[0].Id);
        if (string.Equals(configuration["Cluster:Mode"], "Redis", StringComparison.OrdinalIgnoreCase) && auth.Value.SigningKeys.Count == 0)
            LogClusterWithoutKeys(logger);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(LogLevel.Information, "Development credentials for {Address} (Scheduler:Auth:Mode=Development; set Mode=Required and SigningKeys in production). " +
        "Operator token {Written}.\n  operator:            {OperatorToken}\n  tenant demo:         {TenantToken}\n  plant {Plant}: {PlantToken}\n  agent of site {Site}: {AgentToken}")]
    private static partial void LogDevelopmentTokens(ILogger logger, string address, string written, string operatorToken, string tenantToken, string plantToken, string plant,
        string agentToken, string site);

    [LoggerMessage(LogLevel.Warning, "Cluster mode with a development key: each silo generated its own, so a token works on one silo only. Configure Scheduler:Auth:SigningKeys on every silo.")]
    private static partial void LogClusterWithoutKeys(ILogger logger);
}
