namespace Scheduler.Api.Hosting;

using System.Security.Authentication;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;
using Scheduler.Api.Security;

public static class SchedulerTlsExtensions
{
    /// <summary>
    /// The TLS endpoint (section <c>Scheduler:Tls</c>, validated now: a missing or unreadable certificate stops the
    /// start with a message naming the key). When a port is set, the API also listens there on every interface,
    /// HTTP/2 over TLS 1.2+, asking for a client certificate without requiring one: plants may present one, everyone
    /// else sends a token. Whether a presented certificate is any good is the API front door's decision
    /// (<see cref="PlantCertificates"/>), so a bad one gets a readable UNAUTHENTICATED, not a failed handshake.
    /// </summary>
    public static WebApplicationBuilder AddSchedulerTls(this WebApplicationBuilder builder)
    {
        var tls = builder.Configuration.GetSection(SchedulerTlsOptions.Section).Get<SchedulerTlsOptions>() ?? new();
        var errors = tls.Validate();
        if (errors.Count > 0) throw new OptionsValidationException(SchedulerTlsOptions.Section, typeof(SchedulerTlsOptions), errors);
        if (!tls.Enabled) return builder;

        var certificate = tls.LoadServerCertificate();
        builder.WebHost.ConfigureKestrel(k => k.ListenAnyIP(tls.Port!.Value, listen =>
        {
            listen.Protocols = HttpProtocols.Http2;
            listen.UseHttps(https =>
            {
                https.ServerCertificate = certificate;
                https.SslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13;
                https.ClientCertificateMode = ClientCertificateMode.AllowCertificate;
                https.AllowAnyClientCertificate();
            });
        }));
        return builder;
    }
}
