namespace Scheduler.Api.Security;

using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

/// <summary>
/// The TLS endpoint: a second gRPC port, HTTPS only, on every interface, for callers on other machines (plants in the
/// field, above all). Off unless <see cref="Port"/> is set; the plaintext loopback port stays as it is for local tools.
/// With <see cref="PlantCertificateAuthorityPath"/>, plants may authenticate with a client certificate instead of a
/// token (mutual TLS). Section <c>Scheduler:Tls</c>.
/// </summary>
public sealed class SchedulerTlsOptions
{
    public const string Section = "Scheduler:Tls";

    /// <summary>Port of the TLS endpoint [--tls-port]. Default: none (no TLS endpoint).</summary>
    public int? Port { get; set; }

    /// <summary>The server's certificate chain, PEM (leaf first). Required with <see cref="Port"/>. Default: none.</summary>
    public string? CertificatePath { get; set; }

    /// <summary>The server certificate's private key, PEM (PKCS#8 or PKCS#1). Required with <see cref="Port"/>. Default: none.</summary>
    public string? KeyPath { get; set; }

    /// <summary>
    /// PEM bundle of the certificate authorities that sign plant client certificates. A client certificate that chains
    /// to one of them, is within its validity and allows client authentication identifies the plant named by its
    /// subject common name (<c>CN=horinger-wind</c>). Keep this CA for plants only: whatever it signs can push
    /// telemetry. Default: none (client certificates are not accepted; plants use tokens).
    /// </summary>
    public string? PlantCertificateAuthorityPath { get; set; }

    public bool Enabled => Port is not null;

    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (Port is null)
        {
            if (CertificatePath is not null || KeyPath is not null || PlantCertificateAuthorityPath is not null)
                errors.Add($"{Section}:Port must be set when a certificate is configured (the TLS endpoint is off without it)");
            return errors;
        }
        if (Port is < 1 or > 65535) errors.Add($"{Section}:Port must be within [1, 65535], was {Port}");
        if (string.IsNullOrWhiteSpace(CertificatePath) || string.IsNullOrWhiteSpace(KeyPath))
            errors.Add($"{Section}:CertificatePath and {Section}:KeyPath are required with {Section}:Port");
        else
        {
            try
            {
                using var certificate = LoadServerCertificate();
                if (!certificate.HasPrivateKey) errors.Add($"{Section}:KeyPath: the key does not belong to the certificate");
            }
            catch (Exception ex) when (ex is IOException or CryptographicException or ArgumentException or UnauthorizedAccessException)
            {
                errors.Add($"{Section}:CertificatePath/KeyPath: cannot load the certificate and key: {ex.Message}");
            }
        }
        if (PlantCertificateAuthorityPath is not null)
        {
            try
            {
                if (LoadPlantAuthorities().Count == 0) errors.Add($"{Section}:PlantCertificateAuthorityPath: no certificate in {PlantCertificateAuthorityPath}");
            }
            catch (Exception ex) when (ex is IOException or CryptographicException or UnauthorizedAccessException)
            {
                errors.Add($"{Section}:PlantCertificateAuthorityPath: cannot read {PlantCertificateAuthorityPath}: {ex.Message}");
            }
        }
        return errors;
    }

    public X509Certificate2 LoadServerCertificate()
    {
        using var pem = X509Certificate2.CreateFromPemFile(CertificatePath!, KeyPath!);
        // Kestrel on Linux needs the key in a form SslStream can use; a PKCS#12 round trip gives it one.
        return X509CertificateLoader.LoadPkcs12(pem.Export(X509ContentType.Pkcs12), null);
    }

    public X509Certificate2Collection LoadPlantAuthorities()
    {
        var authorities = new X509Certificate2Collection();
        if (PlantCertificateAuthorityPath is not null) authorities.ImportFromPemFile(PlantCertificateAuthorityPath);
        return authorities;
    }
}
