namespace Scheduler.Api.Client;

using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using Grpc.Core;
using Grpc.Net.Client;

/// <summary>
/// A channel to the scheduler that sends a bearer token on every call. Every client of the public API (CLI, demo,
/// replay driver, load tool, tests) opens its channel here, so there is one way a credential travels.
/// </summary>
public static class SchedulerChannel
{
    /// <summary>Opens a channel to <paramref name="address"/>; with a token, every call carries <c>authorization: Bearer TOKEN</c>.</summary>
    /// <param name="tls">For an https address: a client certificate to present (a plant's mutual TLS) and the authorities to trust for the server's certificate.</param>
    /// <remarks>
    /// gRPC refuses call credentials on plaintext channels unless told otherwise; the scheduler listens on loopback
    /// plaintext by default (the token never leaves the machine), so plaintext is allowed here. Over a network, use https.
    /// </remarks>
    public static GrpcChannel Create(string address, string? token, GrpcChannelOptions? options = null, ChannelTls? tls = null)
    {
        options ??= new GrpcChannelOptions();
        if (tls is not null) options.HttpHandler = tls.Handler();
        if (string.IsNullOrEmpty(token)) return GrpcChannel.ForAddress(address, options);
        var bearer = CallCredentials.FromInterceptor((_, metadata) =>
        {
            metadata.Add("authorization", "Bearer " + token);
            return Task.CompletedTask;
        });
        var secure = address.StartsWith("https://", StringComparison.OrdinalIgnoreCase);
        options.Credentials = ChannelCredentials.Create(secure ? ChannelCredentials.SecureSsl : ChannelCredentials.Insecure, bearer);
        options.UnsafeUseInsecureChannelCallCredentials = !secure;
        return GrpcChannel.ForAddress(address, options);
    }
}

/// <summary>
/// TLS settings of a client channel. <paramref name="ClientCertificate"/> (with its private key) is presented to the
/// server: the scheduler's TLS endpoint takes it as a plant's credential. <paramref name="TrustedAuthorities"/>, when
/// given, are the only roots the server's certificate may chain to (a private CA); otherwise the system's roots.
/// </summary>
public sealed record ChannelTls(X509Certificate2? ClientCertificate = null, X509Certificate2Collection? TrustedAuthorities = null)
{
    /// <summary>Reads PEM files: the client certificate and key (both or neither) and a CA bundle (optional).</summary>
    public static ChannelTls FromPemFiles(string? certificatePath, string? keyPath, string? authorityPath)
    {
        if ((certificatePath is null) != (keyPath is null)) throw new ArgumentException("a client certificate needs both its certificate and its key file");
        var certificate = certificatePath is null ? null : X509Certificate2.CreateFromPemFile(certificatePath, keyPath);
        X509Certificate2Collection? authorities = null;
        if (authorityPath is not null)
        {
            authorities = [];
            authorities.ImportFromPemFile(authorityPath);
        }
        return new ChannelTls(certificate, authorities);
    }

    internal SocketsHttpHandler Handler()
    {
        var handler = new SocketsHttpHandler { EnableMultipleHttp2Connections = true };
        if (ClientCertificate is not null) handler.SslOptions.ClientCertificates = [ClientCertificate];
        if (TrustedAuthorities is { Count: > 0 } roots)
            handler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, _, errors) =>
            {
                if (certificate is null) return false;
                // Only a chain problem is forgiven, and only if the chain ends in one of the given roots; a wrong host name is not.
                if ((errors & ~SslPolicyErrors.RemoteCertificateChainErrors) != SslPolicyErrors.None) return false;
                using var chain = new X509Chain();
                chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
                chain.ChainPolicy.CustomTrustStore.AddRange(roots);
                chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
                return chain.Build(certificate as X509Certificate2 ?? X509CertificateLoader.LoadCertificate(certificate.GetRawCertData()));
            };
        return handler;
    }
}
