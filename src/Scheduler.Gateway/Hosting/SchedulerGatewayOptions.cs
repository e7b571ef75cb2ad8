namespace Scheduler.Gateway.Hosting;

using System.Net;

/// <summary>How the gateway listens and follows the cluster. Section <c>Gateway</c>; command-line switches in brackets.</summary>
public sealed class SchedulerGatewayOptions
{
    public const string Section = "Gateway";

    /// <summary>gRPC port, HTTP/2 only [--grpc-port]. Default: 5000 (the co-hosted silo's port, so clients keep theirs).</summary>
    public int GrpcPort { get; set; } = 5000;

    /// <summary>Health and metrics port, HTTP/1.1: <c>/healthz</c>, <c>/readyz</c>, <c>/metrics</c> [--http-port]. Default: 5001.</summary>
    public int HttpPort { get; set; } = 5001;

    /// <summary>
    /// The address both ports listen on [--listen-address]: <c>127.0.0.1</c> for one machine, <c>0.0.0.0</c> (every
    /// interface) in a pod. Default: 127.0.0.1.
    /// </summary>
    public string ListenAddress { get; set; } = "127.0.0.1";

    /// <summary>
    /// How often the Orleans client re-reads the silo list from membership, so it connects to silos that joined and
    /// drops silos that left. Orleans' own default is 1 minute; a gateway should use a new silo within seconds.
    /// Default: 5 seconds.
    /// </summary>
    public TimeSpan GatewayListRefreshPeriod { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Wait between attempts to reach the cluster while no silo is reachable: at start, and after losing every silo
    /// (then each attempt is a call to the silos' ping grain). Default: 2 seconds.
    /// </summary>
    public TimeSpan ConnectRetryDelay { get; set; } = TimeSpan.FromSeconds(2);

    public IPAddress EffectiveListenAddress => IPAddress.TryParse(ListenAddress, out var address) ? address : IPAddress.Loopback;

    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        foreach (var (name, port) in new[] { ("GrpcPort", GrpcPort), ("HttpPort", HttpPort) })
            if (port is < 1 or > 65535) errors.Add($"{Section}:{name} must be a TCP port (1-65535), was {port}");
        if (GrpcPort == HttpPort) errors.Add($"{Section}: GrpcPort and HttpPort must differ");
        if (!IPAddress.TryParse(ListenAddress, out _)) errors.Add($"{Section}:ListenAddress must be an IP address (127.0.0.1, 0.0.0.0, ...), was '{ListenAddress}'");
        if (GatewayListRefreshPeriod <= TimeSpan.Zero || GatewayListRefreshPeriod > TimeSpan.FromMinutes(5))
            errors.Add($"{Section}:GatewayListRefreshPeriod must be within (0, 5 min], was {GatewayListRefreshPeriod}");
        if (ConnectRetryDelay <= TimeSpan.Zero || ConnectRetryDelay > TimeSpan.FromMinutes(1))
            errors.Add($"{Section}:ConnectRetryDelay must be within (0, 1 min], was {ConnectRetryDelay}");
        return errors;
    }

    /// <summary>Command-line switches to configuration keys.</summary>
    public static readonly IReadOnlyDictionary<string, string> Switches = new Dictionary<string, string>
    {
        ["--grpc-port"] = $"{Section}:GrpcPort",
        ["--http-port"] = $"{Section}:HttpPort",
        ["--listen-address"] = $"{Section}:ListenAddress",
        ["--redis"] = $"{GatewayClusterOptions.Section}:RedisConnectionString",
        ["--tls-port"] = $"{Scheduler.Api.Security.SchedulerTlsOptions.Section}:Port",
    };

    /// <summary>Rewrites the documented switches into configuration keys.</summary>
    public static string[] NormaliseArgs(string[] args) => Scheduler.Api.Hosting.CommandLineSwitches.Normalise(args, Switches);
}

/// <summary>
/// Which cluster the gateway serves. Section <c>Cluster</c>: the same keys, meanings and defaults as the silos'
/// (<c>Scheduler.Host.Hosting.SchedulerClusterOptions</c>), so one configuration (one ConfigMap) serves both.
/// </summary>
public sealed class GatewayClusterOptions
{
    public const string Section = "Cluster";

    /// <summary>StackExchange.Redis connection string of the silos' membership, e.g. <c>127.0.0.1:6379</c>. Required.</summary>
    public string RedisConnectionString { get; set; } = "";

    /// <summary>The silos' Orleans cluster id. Default: <c>green-scheduler</c>.</summary>
    public string ClusterId { get; set; } = "green-scheduler";

    /// <summary>The silos' Orleans service id. Default: <c>green-scheduler</c>.</summary>
    public string ServiceId { get; set; } = "green-scheduler";

    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (string.IsNullOrWhiteSpace(RedisConnectionString))
            errors.Add($"{Section}:RedisConnectionString is required: the gateway finds silos in their Redis membership (--redis 127.0.0.1:6379)");
        else
        {
            try { StackExchange.Redis.ConfigurationOptions.Parse(RedisConnectionString); }
            catch (ArgumentException ex) { errors.Add($"{Section}:RedisConnectionString is not a Redis connection string: {ex.Message}"); }
        }
        if (string.IsNullOrWhiteSpace(ClusterId)) errors.Add($"{Section}:ClusterId must not be empty");
        if (string.IsNullOrWhiteSpace(ServiceId)) errors.Add($"{Section}:ServiceId must not be empty");
        return errors;
    }
}
