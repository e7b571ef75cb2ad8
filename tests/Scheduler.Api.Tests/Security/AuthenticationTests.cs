namespace Scheduler.Api.Tests.Security;

using System.Text.Json;
using Grpc.Core;
using Grpc.Health.V1;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using Scheduler.Api.Client;
using Scheduler.Api.Security;
using Scheduler.Api.V1;
using Scheduler.Host.Hosting;

[Collection(HostCollection.Name)]
public class AuthenticationTests(HostFixture fixture)
{
    private static async Task<StatusCode> ListSitesAs(SchedulerHost host, string? token, string? rawHeader = null)
    {
        var channel = host.ChannelWithToken(token);
        var headers = rawHeader is null ? null : new Metadata { { "authorization", rawHeader } };
        var ex = await Record.ExceptionAsync(async () => await new FleetService.FleetServiceClient(channel).ListSitesAsync(new ListSitesRequest(), headers));
        return (ex as RpcException)?.StatusCode ?? StatusCode.OK;
    }

    private string DevelopmentKey() =>
        File.ReadAllText(Path.Combine(fixture.Host.App.Services.GetRequiredService<IOptions<SchedulerHostOptions>>().Value.DataDir, SchedulerAuthExtensions.DevelopmentKeyFile)).Trim();

    private string Token(Action<SecurityTokenDescriptor> change, string? key = null)
    {
        var now = DateTime.UtcNow;
        var descriptor = new SecurityTokenDescriptor
        {
            Issuer = "green-scheduler", Audience = "green-scheduler", IssuedAt = now, NotBefore = now, Expires = now.AddHours(1),
            Claims = new Dictionary<string, object> { ["sub"] = "someone", ["role"] = "operator" },
            SigningCredentials = new SigningCredentials(new SymmetricSecurityKey(Convert.FromBase64String(key ?? DevelopmentKey())) { KeyId = "dev" }, SecurityAlgorithms.HmacSha256),
        };
        change(descriptor);
        return new JsonWebTokenHandler().CreateToken(descriptor);
    }

    [Fact]
    public async Task ACallWithoutAToken_IsUnauthenticated_AndSaysHowToGetOne()
    {
        var ex = await Assert.ThrowsAsync<RpcException>(async () =>
            await new JobService.JobServiceClient(fixture.Host.ChannelWithToken(null)).ListJobsAsync(new ListJobsRequest()));
        Assert.Equal(StatusCode.Unauthenticated, ex.StatusCode);
        Assert.Contains("Bearer", ex.Status.Detail);
    }

    public static TheoryData<string> BadTokens => ["garbage", "not.a.jwt", "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4Iiwicm9sZSI6Im9wZXJhdG9yIn0.", "wrong key", "expired", "not yet valid",
        "other issuer", "other audience", "unknown role", "tenant without tenant", "agent without site", "no subject", "HS512"];

    [Theory]
    [MemberData(nameof(BadTokens))]
    public async Task ABadToken_IsUnauthenticated(string kind)
    {
        var token = kind switch
        {
            "wrong key" => Token(_ => { }, SchedulerCredentials.NewKey()),
            "expired" => Token(d => { d.IssuedAt = d.NotBefore = DateTime.UtcNow.AddHours(-3); d.Expires = DateTime.UtcNow.AddHours(-2); }),
            "not yet valid" => Token(d => { d.NotBefore = DateTime.UtcNow.AddHours(2); d.Expires = DateTime.UtcNow.AddHours(3); }),
            "other issuer" => Token(d => d.Issuer = "someone-else"),
            "other audience" => Token(d => d.Audience = "someone-else"),
            "unknown role" => Token(d => d.Claims["role"] = "admin"),
            "tenant without tenant" => Token(d => d.Claims["role"] = "tenant"),
            "agent without site" => Token(d => d.Claims["role"] = "agent"),
            "no subject" => Token(d => d.Claims.Remove("sub")),
            "HS512" => Token(d => d.SigningCredentials = new SigningCredentials(new SymmetricSecurityKey([.. Convert.FromBase64String(DevelopmentKey()), .. Convert.FromBase64String(DevelopmentKey())]) { KeyId = "dev" }, SecurityAlgorithms.HmacSha512)),
            _ => kind,
        };
        Assert.Equal(StatusCode.Unauthenticated, await ListSitesAs(fixture.Host, token));
    }

    /// <summary>
    /// Valid tokens are remembered (the signature is checked once), but only until they expire. IdentityModel reads
    /// the system clock, so this waits in real time (about 2 s) rather than with a fake clock.
    /// </summary>
    [Fact]
    public async Task ARememberedToken_IsRefusedOnceExpired()
    {
        var key = SchedulerCredentials.NewKey();
        var credentials = new SchedulerCredentials([new SigningKeyOptions { Id = "k", Key = key }], clockSkew: TimeSpan.Zero);
        var token = credentials.MintOperator("short-lived", TimeSpan.FromSeconds(2));

        Assert.NotNull((await credentials.ValidateAsync(token)).Caller);
        Assert.NotNull((await credentials.ValidateAsync(token)).Caller);
        await Task.Delay(TimeSpan.FromSeconds(3));
        var (caller, error) = await credentials.ValidateAsync(token);

        Assert.Null(caller);
        Assert.Equal("the token has expired", error);
    }

    [Theory]
    [InlineData("Basic b3BlcmF0b3I6c2VjcmV0")]
    [InlineData("Bearer")]
    [InlineData("token-without-scheme")]
    public async Task AMalformedAuthorizationHeader_IsUnauthenticated(string header) =>
        Assert.Equal(StatusCode.Unauthenticated, await ListSitesAs(fixture.Host, null, header));

    [Fact]
    public async Task AGoodToken_IsAccepted_AndHealthNeedsNone()
    {
        Assert.Equal(StatusCode.OK, await ListSitesAs(fixture.Host, Token(_ => { })));
        var health = await new Health.HealthClient(fixture.Host.ChannelWithToken(null)).CheckAsync(new HealthCheckRequest());
        Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, health.Status);
    }

    [Fact]
    public void RequiredMode_WithoutKeys_RefusesToStart()
    {
        var ex = Assert.Throws<OptionsValidationException>(() => SchedulerApp.Build(["--no-demo", "--data-dir", Path.GetTempPath(), "--Scheduler:Auth:Mode=Required"]));
        Assert.Contains("SigningKeys", ex.Message);
    }

    [Theory]
    [InlineData("--Scheduler:Auth:SigningKeys:0:Key=c2hvcnQ=", "at least 32 bytes")]
    [InlineData("--Scheduler:Auth:Mode=Sometimes", "Mode")]
    public void BadAuthOptions_RefuseToStart(string arg, string message)
    {
        var ex = Record.Exception(() => SchedulerApp.Build(["--no-demo", "--data-dir", Path.GetTempPath(), "--Scheduler:Auth:SigningKeys:0:Id=k", arg]));
        Assert.NotNull(ex);
        Assert.Contains(message, ex.ToString());
    }

    [Fact]
    public async Task ConfiguredKeys_AreUsed_TheFirstSigns_EveryOneValidates()
    {
        var (current, previous) = (SchedulerCredentials.NewKey(), SchedulerCredentials.NewKey());
        await using var host = await SchedulerHost.StartFreshAsync(b => b.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Scheduler:Auth:Mode"] = "Required",
            ["Scheduler:Auth:SigningKeys:0:Id"] = "current", ["Scheduler:Auth:SigningKeys:0:Key"] = current,
            ["Scheduler:Auth:SigningKeys:1:Id"] = "previous", ["Scheduler:Auth:SigningKeys:1:Key"] = previous,
        }));

        Assert.Equal(StatusCode.OK, await ListSitesAs(host, SchedulerCredentials.FromKey(current, "current").MintOperator("a")));
        Assert.Equal(StatusCode.OK, await ListSitesAs(host, SchedulerCredentials.FromKey(previous, "previous").MintOperator("b")));
        Assert.Equal(StatusCode.Unauthenticated, await ListSitesAs(host, SchedulerCredentials.FromKey(SchedulerCredentials.NewKey(), "current").MintOperator("c")));
    }

    [Fact]
    public async Task DevelopmentMode_WritesAnOperatorCredential_ThatSurvivesARestart()
    {
        var dataDir = Path.Combine(Path.GetTempPath(), "scheduler-auth-" + Guid.NewGuid().ToString("N")[..8]);
        var file = Path.Combine(dataDir, "config", "credentials.json");
        void UseFile(WebApplicationBuilder b) => b.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["Scheduler:Auth:CredentialFile"] = file });
        try
        {
            string token, address;
            await using (var first = await SchedulerHost.StartAsync(dataDir, new FakeTimeProvider(HostFixture.Start), UseFile))
            {
                address = $"http://127.0.0.1:{first.GrpcPort}";
                token = CredentialFile.ReadToken(file, address) ?? throw new InvalidOperationException("no token written for " + address);
                Assert.Equal(StatusCode.OK, await ListSitesAs(first, token));
                using var json = JsonDocument.Parse(File.ReadAllText(file));
                Assert.Equal("operator", json.RootElement.GetProperty("servers").GetProperty(address).GetProperty("role").GetString());
                if (!OperatingSystem.IsWindows()) Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(file));
            }
            await using var second = await SchedulerHost.StartAsync(dataDir, new FakeTimeProvider(HostFixture.Start), UseFile);
            Assert.Equal(StatusCode.OK, await ListSitesAs(second, token)); // the key in the data directory was kept
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            try { Directory.Delete(dataDir, recursive: true); } catch (IOException) { }
        }
    }
}
