namespace Scheduler.Api.Client;

using Grpc.Core;
using Grpc.Net.Client;

/// <summary>
/// A channel to the scheduler that sends a bearer token on every call. Every client of the public API (CLI, demo,
/// replay driver, load tool, tests) opens its channel here, so there is one way a credential travels.
/// </summary>
public static class SchedulerChannel
{
    /// <summary>Opens a channel to <paramref name="address"/>; with a token, every call carries <c>authorization: Bearer TOKEN</c>.</summary>
    /// <remarks>
    /// gRPC refuses call credentials on plaintext channels unless told otherwise; the scheduler listens on loopback
    /// plaintext by default (the token never leaves the machine), so plaintext is allowed here. Over a network, use https.
    /// </remarks>
    public static GrpcChannel Create(string address, string? token, GrpcChannelOptions? options = null)
    {
        options ??= new GrpcChannelOptions();
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
