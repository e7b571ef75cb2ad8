namespace Scheduler.Api.Security;

using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Options;

/// <summary>
/// Mutual TLS for plants: turns a client certificate into a plant identity. The TLS handshake accepts any client
/// certificate, so a bad one reaches the API's front door and gets UNAUTHENTICATED with the reason, rather than a
/// dropped connection the plant cannot tell from a network fault. Accepted: chains to a configured plant CA (no
/// system roots), within its validity, allowed for client authentication; the plant is the subject's common name.
/// Revocation is not checked: keep plant certificates short-lived.
/// </summary>
public sealed class PlantCertificates
{
    private const int MaxCached = 10_000;
    private static readonly Oid ClientAuthentication = new("1.3.6.1.5.5.7.3.2");

    private readonly X509Certificate2Collection _authorities;
    private readonly TimeProvider _time;
    // A plant's stream authenticates once, but a plant making unary calls would otherwise build a chain per call.
    // Only accepted certificates are kept (until they expire), so a refusal is always decided afresh.
    private readonly ConcurrentDictionary<string, (CallerIdentity Caller, DateTimeOffset NotAfter)> _accepted = new(StringComparer.Ordinal);

    public PlantCertificates(IOptions<SchedulerTlsOptions> options, TimeProvider? time = null)
        : this(options.Value.LoadPlantAuthorities(), time) { }

    public PlantCertificates(X509Certificate2Collection authorities, TimeProvider? time = null)
    {
        _authorities = authorities;
        _time = time ?? TimeProvider.System;
    }

    /// <summary>Whether any plant CA is configured; without one, client certificates are not a credential.</summary>
    public bool Enabled => _authorities.Count > 0;

    /// <summary>The plant this certificate identifies, or why it identifies none.</summary>
    public (CallerIdentity? Caller, string? Error) Authenticate(X509Certificate2 certificate)
    {
        if (!Enabled) return (null, "client certificates are not accepted here (no Scheduler:Tls:PlantCertificateAuthorityPath); send a bearer token");
        var now = _time.GetUtcNow();
        var key = certificate.GetCertHashString(HashAlgorithmName.SHA256);
        if (_accepted.TryGetValue(key, out var cached) && now <= cached.NotAfter) return (cached.Caller, null);

        var verdict = Verify(certificate, now);
        if (verdict.Caller is null) return verdict;
        if (_accepted.Count >= MaxCached) _accepted.Clear();
        _accepted[key] = (verdict.Caller, new DateTimeOffset(certificate.NotAfter.ToUniversalTime()));
        return verdict;
    }

    private (CallerIdentity? Caller, string? Error) Verify(X509Certificate2 certificate, DateTimeOffset now)
    {
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(_authorities);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.ApplicationPolicy.Add(ClientAuthentication);
        chain.ChainPolicy.VerificationTime = now.UtcDateTime;
        chain.ChainPolicy.VerificationTimeIgnored = false;
        if (!chain.Build(certificate))
        {
            var reasons = chain.ChainStatus.Select(s => s.Status.ToString()).Distinct();
            return (null, $"client certificate '{certificate.Subject}' is not valid for a plant: {string.Join(", ", reasons)}");
        }
        var plant = certificate.GetNameInfo(X509NameType.SimpleName, forIssuer: false);
        if (string.IsNullOrWhiteSpace(plant)) return (null, $"client certificate '{certificate.Subject}' has no common name (CN=PLANT_ID)");
        return (CallerIdentity.ForPlant(plant, principal: "certificate:" + plant), null);
    }
}
