namespace Scheduler.Api.Tests.Security;

using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Scheduler.Api.Client;
using Scheduler.Api.Security;
using Scheduler.Api.V1;

/// <summary>
/// Mutual TLS for plants, end to end on the host's TLS endpoint: a private CA signs the server's certificate and the
/// plants' client certificates; a rogue CA, an expired certificate and a server-only certificate stand for the bad ones.
/// </summary>
public sealed class MutualTlsTests : IAsyncLifetime
{
    private const string Plant = "horinger-wind";
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "scheduler-tls-" + Guid.NewGuid().ToString("N")[..8]);
    private readonly TestCertificates _certificates = new();
    private SchedulerHost _host = null!;
    private int _tlsPort;

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(_dir);
        var server = _certificates.Issue("localhost", _certificates.PlantCa, serverAuth: true, clientAuth: false, dnsName: "localhost");
        File.WriteAllText(Path.Combine(_dir, "server.crt"), server.ExportCertificatePem());
        File.WriteAllText(Path.Combine(_dir, "server.key"), server.GetECDsaPrivateKey()!.ExportPkcs8PrivateKeyPem());
        File.WriteAllText(Path.Combine(_dir, "plant-ca.crt"), _certificates.PlantCa.ExportCertificatePem());
        _tlsPort = Scheduler.Host.Hosting.LoopbackPorts.Free(1)[0];
        _host = await SchedulerHost.StartFreshAsync(builder => builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Scheduler:Tls:Port"] = _tlsPort.ToString(),
            ["Scheduler:Tls:CertificatePath"] = Path.Combine(_dir, "server.crt"),
            ["Scheduler:Tls:KeyPath"] = Path.Combine(_dir, "server.key"),
            ["Scheduler:Tls:PlantCertificateAuthorityPath"] = Path.Combine(_dir, "plant-ca.crt"),
        }));
    }

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        Directory.Delete(_dir, recursive: true);
    }

    private GrpcChannel TlsChannel(X509Certificate2? clientCertificate, string? token = null) =>
        SchedulerChannel.Create($"https://localhost:{_tlsPort}", token, tls: new ChannelTls(clientCertificate, [_certificates.PlantCa]));

    private async Task<PushGenerationResponse> PushAsync(GrpcChannel channel, string plant, double megawatts = 42)
    {
        using var call = new TelemetryService.TelemetryServiceClient(channel).PushGeneration();
        await call.RequestStream.WriteAsync(new GenerationSample { PlantId = plant, Megawatts = megawatts, Time = Timestamp.FromDateTimeOffset(_host.Time.GetUtcNow()) });
        await call.RequestStream.CompleteAsync();
        return await call;
    }

    private async Task<double> PlantOutputAsync(string plant)
    {
        var fleet = await new FleetService.FleetServiceClient(_host.Channel).GetFleetAsync(new GetFleetRequest());
        return fleet.Sites.SelectMany(s => s.Plants).Single(p => p.PlantId == plant).Megawatts;
    }

    [Fact]
    public async Task APlantCertificate_PushesItsOwnPlantsTelemetry_WithoutAToken()
    {
        var reply = await PushAsync(TlsChannel(_certificates.Issue(Plant, _certificates.PlantCa)), Plant, 42);

        Assert.Equal(1, reply.Accepted);
        Assert.Equal(42, await PlantOutputAsync(Plant));
    }

    [Fact]
    public async Task APlantCertificate_CannotReportForAnotherPlant_NorCallJobOrFleetServices()
    {
        var channel = TlsChannel(_certificates.Issue(Plant, _certificates.PlantCa));
        var before = await StateProbe.TakeAsync(_host);

        var reply = await PushAsync(channel, "ulanqab-wind", 99);
        var jobs = await Assert.ThrowsAsync<RpcException>(async () => await new JobService.JobServiceClient(channel).ListJobsAsync(new ListJobsRequest()));
        var fleet = await Assert.ThrowsAsync<RpcException>(async () => await new FleetService.FleetServiceClient(channel).ListSitesAsync(new ListSitesRequest()));

        Assert.Equal((0, 1), (reply.Accepted, reply.Rejected));
        Assert.StartsWith("PERMISSION_DENIED", reply.Rejections.Single().Description);
        Assert.Equal(StatusCode.PermissionDenied, jobs.StatusCode);
        Assert.Equal(StatusCode.PermissionDenied, fleet.StatusCode);
        Assert.Equal(before, await StateProbe.TakeAsync(_host));
    }

    public static TheoryData<string> BadCertificates => ["rogue CA", "expired", "not yet valid", "server authentication only", "no common name"];

    [Theory]
    [MemberData(nameof(BadCertificates))]
    public async Task ABadClientCertificate_IsUnauthenticated_WithTheReason_AndChangesNothing(string kind)
    {
        var now = DateTimeOffset.UtcNow;
        var certificate = kind switch
        {
            "rogue CA" => _certificates.Issue(Plant, _certificates.RogueCa),
            "expired" => _certificates.Issue(Plant, _certificates.PlantCa, notBefore: now.AddDays(-10), notAfter: now.AddDays(-1)),
            "not yet valid" => _certificates.Issue(Plant, _certificates.PlantCa, notBefore: now.AddDays(1), notAfter: now.AddDays(10)),
            "server authentication only" => _certificates.Issue(Plant, _certificates.PlantCa, serverAuth: true, clientAuth: false),
            "no common name" => _certificates.Issue(null, _certificates.PlantCa),
            _ => throw new ArgumentOutOfRangeException(nameof(kind)),
        };
        var before = await StateProbe.TakeAsync(_host);

        var ex = await Assert.ThrowsAsync<RpcException>(() => PushAsync(TlsChannel(certificate), Plant));

        Assert.Equal(StatusCode.Unauthenticated, ex.StatusCode);
        Assert.Contains(kind == "no common name" ? "no common name" : "not valid for a plant", ex.Status.Detail);
        Assert.Equal(before, await StateProbe.TakeAsync(_host));
    }

    [Fact]
    public async Task OnTheTlsEndpoint_NoCredential_IsUnauthenticated_AndATokenStillWorks()
    {
        var none = await Assert.ThrowsAsync<RpcException>(() => PushAsync(TlsChannel(null), Plant));
        var sites = await new FleetService.FleetServiceClient(TlsChannel(null, _host.Credentials.MintOperator("tls-operator"))).ListSitesAsync(new ListSitesRequest());

        Assert.Equal(StatusCode.Unauthenticated, none.StatusCode);
        Assert.Contains("client certificate", none.Status.Detail);
        Assert.NotEmpty(sites.Sites);
    }

    [Fact]
    public async Task ATokenSentWithACertificate_IsTheCredential()
    {
        // A tenant's token wins over the plant certificate on the same connection: the push is the tenant's, and denied.
        var channel = TlsChannel(_certificates.Issue(Plant, _certificates.PlantCa), _host.Credentials.Mint(CallerIdentity.ForTenant("acme")));

        var ex = await Assert.ThrowsAsync<RpcException>(() => PushAsync(channel, Plant));

        Assert.Equal(StatusCode.PermissionDenied, ex.StatusCode);
    }

    [Fact]
    public void AcceptedCertificates_AreRememberedOnlyUntilTheyExpire()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var plants = new PlantCertificates([_certificates.PlantCa], time);
        var certificate = _certificates.Issue(Plant, _certificates.PlantCa, notBefore: time.GetUtcNow().AddMinutes(-1), notAfter: time.GetUtcNow().AddHours(1));

        var first = plants.Authenticate(certificate);
        time.Advance(TimeSpan.FromHours(2));
        var later = plants.Authenticate(certificate);

        Assert.Equal(CallerIdentity.ForPlant(Plant, "certificate:" + Plant), first.Caller);
        Assert.Null(later.Caller);
        Assert.Contains("NotTimeValid", later.Error);
    }

    public static TheoryData<string, string> BadOptions => new()
    {
        { "port without certificate", "CertificatePath and Scheduler:Tls:KeyPath are required" },
        { "certificate without port", "Scheduler:Tls:Port must be set" },
        { "missing certificate file", "cannot load the certificate and key" },
        { "port out of range", "Scheduler:Tls:Port must be within [1, 65535]" },
        { "empty CA bundle", "PlantCertificateAuthorityPath: no certificate" },
    };

    [Theory]
    [MemberData(nameof(BadOptions))]
    public void BadTlsOptions_AreRefusedAtStart_NamingTheKey(string kind, string expected)
    {
        var empty = Path.Combine(_dir, "empty.pem");
        File.WriteAllText(empty, "");
        var options = kind switch
        {
            "port without certificate" => new SchedulerTlsOptions { Port = 5443 },
            "certificate without port" => new SchedulerTlsOptions { CertificatePath = Path.Combine(_dir, "server.crt"), KeyPath = Path.Combine(_dir, "server.key") },
            "missing certificate file" => new SchedulerTlsOptions { Port = 5443, CertificatePath = Path.Combine(_dir, "nope.crt"), KeyPath = Path.Combine(_dir, "nope.key") },
            "port out of range" => new SchedulerTlsOptions { Port = 70000, CertificatePath = Path.Combine(_dir, "server.crt"), KeyPath = Path.Combine(_dir, "server.key") },
            "empty CA bundle" => new SchedulerTlsOptions
            {
                Port = 5443, CertificatePath = Path.Combine(_dir, "server.crt"), KeyPath = Path.Combine(_dir, "server.key"), PlantCertificateAuthorityPath = empty,
            },
            _ => throw new ArgumentOutOfRangeException(nameof(kind)),
        };

        var ex = Assert.Throws<OptionsValidationException>(() => Scheduler.Host.Hosting.SchedulerApp.Build(
            ["--no-demo", "--data-dir", Path.Combine(_dir, "data"), .. TlsArgs(options)]));

        Assert.Contains(expected, ex.Message);
    }

    private static IEnumerable<string> TlsArgs(SchedulerTlsOptions o)
    {
        if (o.Port is { } port) yield return $"--Scheduler:Tls:Port={port}";
        if (o.CertificatePath is { } c) yield return $"--Scheduler:Tls:CertificatePath={c}";
        if (o.KeyPath is { } k) yield return $"--Scheduler:Tls:KeyPath={k}";
        if (o.PlantCertificateAuthorityPath is { } a) yield return $"--Scheduler:Tls:PlantCertificateAuthorityPath={a}";
    }
}

/// <summary>A private CA for plants (which also signs the server's certificate here), a rogue CA, and leaf certificates from either.</summary>
internal sealed class TestCertificates
{
    public X509Certificate2 PlantCa { get; } = Authority("CN=test plant CA");
    public X509Certificate2 RogueCa { get; } = Authority("CN=rogue CA");

    private static X509Certificate2 Authority(string subject)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        return request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-30), DateTimeOffset.UtcNow.AddYears(1));
    }

    public X509Certificate2 Issue(string? commonName, X509Certificate2 issuer, bool serverAuth = false, bool clientAuth = true,
        string? dnsName = null, DateTimeOffset? notBefore = null, DateTimeOffset? notAfter = null)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(commonName is null ? "O=green-scheduler tests" : $"CN={commonName}", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, false));
        var usages = new OidCollection();
        if (serverAuth) usages.Add(new Oid("1.3.6.1.5.5.7.3.1"));
        if (clientAuth) usages.Add(new Oid("1.3.6.1.5.5.7.3.2"));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(usages, false));
        if (dnsName is not null)
        {
            var names = new SubjectAlternativeNameBuilder();
            names.AddDnsName(dnsName);
            names.AddIpAddress(IPAddress.Loopback);
            request.CertificateExtensions.Add(names.Build());
        }
        var from = notBefore ?? DateTimeOffset.UtcNow.AddMinutes(-5);
        var to = notAfter ?? DateTimeOffset.UtcNow.AddDays(30);
        using var signed = request.Create(issuer, from, to, RandomNumberGenerator.GetBytes(12));
        // With its private key, and loaded through PKCS#12 so SslStream on Linux can use it as a client certificate.
        using var withKey = signed.CopyWithPrivateKey(key);
        return X509CertificateLoader.LoadPkcs12(withKey.Export(X509ContentType.Pkcs12), null);
    }
}
