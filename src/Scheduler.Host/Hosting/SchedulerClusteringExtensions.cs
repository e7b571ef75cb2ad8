namespace Scheduler.Host.Hosting;

using System.Net;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Orleans.Storage;
using Scheduler.Grains.Hosting;
using StackExchange.Redis;

public static class SchedulerClusteringExtensions
{
    /// <summary>
    /// The silo, clustered as section <c>Cluster</c> says (validated now: a bad setting stops the start with a message
    /// naming the key). Embedded: exactly <see cref="SchedulerHostExtensions.AddSchedulerSilo"/>, one silo on SQLite.
    /// Redis: membership, default grain storage and reminders in Redis, every silo serving gRPC, the fleet clock driven by
    /// the oldest silo only; optionally Orleans' Kubernetes hosting.
    /// </summary>
    public static WebApplicationBuilder AddSchedulerClustering(this WebApplicationBuilder builder)
    {
        var cluster = builder.Configuration.GetSection(SchedulerClusterOptions.Section).Get<SchedulerClusterOptions>() ?? new();
        var errors = cluster.Validate(Environment.GetEnvironmentVariable);
        if (errors.Count > 0) throw new OptionsValidationException(SchedulerClusterOptions.Section, typeof(SchedulerClusterOptions), errors);
        builder.Services.AddSingleton(Options.Create(cluster));
        var host = builder.Configuration.GetSection(SchedulerHostOptions.Section).Get<SchedulerHostOptions>() ?? new();
        // Gateways find silos through Redis membership; an embedded silo without its API would serve nobody.
        if (cluster.Mode == ClusterMode.Embedded && !host.ServeGrpc)
            throw new OptionsValidationException(SchedulerClusterOptions.Section, typeof(SchedulerClusterOptions),
                [$"{SchedulerHostOptions.Section}:ServeGrpc=false (--no-grpc) needs {SchedulerClusterOptions.Section}:Mode=Redis: gateways reach silos through Redis membership"]);
        if (cluster.Mode == ClusterMode.Embedded) return builder.AddSchedulerSilo();

        // A replay's virtual clock lives in one process, and its state is throwaway: it runs on the embedded silo only.
        if (host.Replay)
            throw new OptionsValidationException(SchedulerClusterOptions.Section, typeof(SchedulerClusterOptions),
                [$"{SchedulerClusterOptions.Section}:Mode=Redis cannot be combined with replay mode (--replay); replay runs on the embedded silo"]);
        var publicAddress = cluster.EffectivePublicAddress(Environment.GetEnvironmentVariable);
        // Clients and probes reach a silo from other machines (pods): the API ports also listen on its public address.
        // Loopback stays as the host set it, so local tools and the demo keep working.
        if (publicAddress is not null && !IPAddress.IsLoopback(publicAddress))
            builder.WebHost.ConfigureKestrel(k =>
            {
                if (host.ServeGrpc) k.Listen(publicAddress, host.GrpcPort, o => o.Protocols = HttpProtocols.Http2);
                k.Listen(publicAddress, host.HttpPort, o => o.Protocols = HttpProtocols.Http1);
            });

        var redis = ConfigurationOptions.Parse(cluster.RedisConnectionString);
        // Keep retrying while Redis restarts rather than failing the silo's start or its writes outright.
        redis.AbortOnConnectFail = false;
        builder.UseOrleans(silo =>
        {
            silo.Configure<ClusterOptions>(o => { o.ClusterId = cluster.ClusterId; o.ServiceId = cluster.ServiceId; });
            silo.Configure<ClusterMembershipOptions>(o =>
            {
                o.ProbeTimeout = cluster.ProbeTimeout;
                o.NumMissedProbesLimit = cluster.NumMissedProbesLimit;
                o.NumVotesForDeathDeclaration = cluster.NumVotesForDeathDeclaration;
            });
            silo.UseRedisClustering(o => o.ConfigurationOptions = redis.Clone());
            // Grain state in Orleans' binary format, as the SQLite storage writes it: the scheduler's records are
            // [GenerateSerializer] types, not JSON contracts.
            silo.AddRedisGrainStorageAsDefault(o => o.Configure<Orleans.Serialization.Serializer>((options, serializer) =>
            {
                options.ConfigurationOptions = redis.Clone();
                options.GrainStorageSerializer = new OrleansGrainStorageSerializer(serializer);
            }));
            silo.UseRedisReminderService(o => o.ConfigurationOptions = redis.Clone());
            if (cluster.Kubernetes)
            {
                silo.Configure<EndpointOptions>(o => { o.SiloPort = host.SiloPort; o.GatewayPort = host.GatewayPort; });
                silo.UseKubernetesHosting();
            }
            else
            {
                // One machine: loopback. Several machines: advertise the public address and listen on every interface.
                silo.ConfigureEndpoints(publicAddress ?? IPAddress.Loopback, host.SiloPort, host.GatewayPort, listenOnAnyHostAddress: publicAddress is not null);
            }
            silo.AddSchedulerGrains(builder.Configuration);
        });
        builder.Services.AddSingleton<IFleetClockLease, OldestSiloFleetClockLease>();
        return builder;
    }
}
