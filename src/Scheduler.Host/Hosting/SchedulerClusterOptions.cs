namespace Scheduler.Host.Hosting;

using System.Net;

/// <summary>Where the silo keeps membership, grain state and reminders.</summary>
public enum ClusterMode
{
    /// <summary>One silo: localhost clustering, grain state in the embedded SQLite file, no server to install.</summary>
    Embedded,

    /// <summary>Several silos: membership, grain state and reminders in Redis (Orleans' Redis providers).</summary>
    Redis,
}

/// <summary>
/// How silos form a cluster. Section <c>Cluster</c>. The defaults are the embedded single silo, so a local run needs no
/// setting; <c>Cluster:Mode=Redis</c> with a connection string makes a multi-silo cluster.
/// </summary>
public sealed class SchedulerClusterOptions
{
    public const string Section = "Cluster";

    /// <summary><see cref="ClusterMode.Embedded"/> or <see cref="ClusterMode.Redis"/>. Default: Embedded.</summary>
    public ClusterMode Mode { get; set; } = ClusterMode.Embedded;

    /// <summary>
    /// StackExchange.Redis connection string for membership, grain state and reminders, e.g.
    /// <c>127.0.0.1:6379</c> or <c>redis:6379,password=…</c>. Required in Redis mode. Default: empty.
    /// </summary>
    public string RedisConnectionString { get; set; } = "";

    /// <summary>
    /// Orleans cluster id: silos with the same id form one cluster (membership rows are keyed by it). Under Kubernetes
    /// hosting the pod label <c>orleans/clusterId</c> takes precedence. Default: <c>green-scheduler</c>.
    /// </summary>
    public string ClusterId { get; set; } = "green-scheduler";

    /// <summary>
    /// Orleans service id: grain state and reminders are keyed by it, so it must stay the same across deployments of
    /// the same service, or state is not found. Default: <c>green-scheduler</c>.
    /// </summary>
    public string ServiceId { get; set; } = "green-scheduler";

    /// <summary>
    /// Use Orleans' Kubernetes hosting (silo name = pod name, advertised address = pod IP, silos without a pod are
    /// declared dead). Needs Redis mode and the pod environment <c>POD_NAME</c>, <c>POD_NAMESPACE</c>, <c>POD_IP</c>.
    /// Default: false.
    /// </summary>
    public bool Kubernetes { get; set; }

    /// <summary>
    /// The IP address other silos and clients reach this silo at: Orleans advertises it in membership, and the gRPC and
    /// HTTP ports listen on it besides loopback. Unset: loopback only (every silo on one machine), or under Kubernetes the
    /// pod IP from <c>POD_IP</c>. Default: unset.
    /// </summary>
    public string? PublicAddress { get; set; }

    /// <summary>
    /// Initial timeout of one membership liveness probe (Orleans adapts it per peer between half and four times this).
    /// Orleans' own default is 5 s; 2 s declares a killed silo dead within about 10 s on a data-centre network, so
    /// decisions resume well within 20 s. Raise it across slow links. Default: 2 seconds.
    /// </summary>
    public TimeSpan ProbeTimeout { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Missed probes after which a silo suspects a peer and votes it dead (Orleans' default). Default: 3.</summary>
    public int NumMissedProbesLimit { get; set; } = 3;

    /// <summary>
    /// Suspicion votes that declare a silo dead (Orleans' default). With two silos left alive after a crash, both must
    /// agree, so one partitioned silo cannot evict a healthy one on its own. Default: 2.
    /// </summary>
    public int NumVotesForDeathDeclaration { get; set; } = 2;

    /// <summary>The address from <see cref="PublicAddress"/>, or the pod IP under Kubernetes, or null (loopback only).</summary>
    public IPAddress? EffectivePublicAddress(Func<string, string?> environment)
    {
        var text = !string.IsNullOrWhiteSpace(PublicAddress) ? PublicAddress : Kubernetes ? environment("POD_IP") : null;
        return text is not null && IPAddress.TryParse(text, out var address) ? address : null;
    }

    public IReadOnlyList<string> Validate(Func<string, string?> environment)
    {
        var errors = new List<string>();
        if (!Enum.IsDefined(Mode)) errors.Add($"{Section}:Mode must be Embedded or Redis, was {Mode}");
        if (Mode == ClusterMode.Redis)
        {
            if (string.IsNullOrWhiteSpace(RedisConnectionString)) errors.Add($"{Section}:RedisConnectionString is required when {Section}:Mode is Redis");
            else
            {
                try { StackExchange.Redis.ConfigurationOptions.Parse(RedisConnectionString); }
                catch (ArgumentException ex) { errors.Add($"{Section}:RedisConnectionString is not a Redis connection string: {ex.Message}"); }
            }
        }
        if (Kubernetes && Mode != ClusterMode.Redis) errors.Add($"{Section}:Kubernetes needs {Section}:Mode=Redis (pods share no disk)");
        if (Kubernetes && !IPAddress.TryParse(environment("POD_IP") ?? "", out _) && string.IsNullOrWhiteSpace(PublicAddress))
            errors.Add($"{Section}:Kubernetes needs the POD_IP environment variable (the downward API's status.podIP)");
        if (string.IsNullOrWhiteSpace(ClusterId)) errors.Add($"{Section}:ClusterId must not be empty");
        if (string.IsNullOrWhiteSpace(ServiceId)) errors.Add($"{Section}:ServiceId must not be empty");
        if (!string.IsNullOrWhiteSpace(PublicAddress) && !IPAddress.TryParse(PublicAddress, out _))
            errors.Add($"{Section}:PublicAddress must be an IP address, was '{PublicAddress}'");
        if (ProbeTimeout <= TimeSpan.Zero || ProbeTimeout > TimeSpan.FromMinutes(1)) errors.Add($"{Section}:ProbeTimeout must be within (0, 1 min], was {ProbeTimeout}");
        if (NumMissedProbesLimit < 1) errors.Add($"{Section}:NumMissedProbesLimit must be >= 1, was {NumMissedProbesLimit}");
        if (NumVotesForDeathDeclaration < 1) errors.Add($"{Section}:NumVotesForDeathDeclaration must be >= 1, was {NumVotesForDeathDeclaration}");
        return errors;
    }
}
