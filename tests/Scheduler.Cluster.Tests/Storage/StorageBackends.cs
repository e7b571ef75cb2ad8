namespace Scheduler.Cluster.Tests.Storage;

using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Orleans;
using Orleans.Configuration;
using Orleans.Hosting;
using Orleans.Persistence;
using Orleans.Runtime;
using Orleans.Serialization;
using Orleans.Storage;
using Scheduler.Cluster.Tests.Infrastructure;
using Scheduler.Storage.Sqlite;
using Scheduler.Storage.Sqlite.Hosting;
using StackExchange.Redis;

/// <summary>The backends under test, built the way the host builds them (Orleans' binary serializer for state).</summary>
internal static class StorageBackends
{
    public static Serializer Serializer { get; } = new ServiceCollection()
        .AddSerializer(b => b.AddAssembly(typeof(ProbeState).Assembly))
        .BuildServiceProvider().GetRequiredService<Serializer>();

    public static SqliteGrainStorage Sqlite(string databasePath) =>
        new(new SqliteGrainStorageOptions { DatabasePath = databasePath }, Serializer);

    /// <summary>Orleans' Redis grain storage, configured as <c>AddSchedulerClustering</c> does, and started.</summary>
    public static async Task<(IGrainStorage Storage, IAsyncDisposable Owner)> RedisAsync(string connectionString, string serviceId)
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSerializer(b => b.AddAssembly(typeof(ProbeState).Assembly));
        services.Configure<ClusterOptions>(o => { o.ClusterId = "conformance"; o.ServiceId = serviceId; });
        // The silo registers a default serializer the provider resolves first; the option below then replaces it.
        services.AddSingleton<IGrainStorageSerializer>(sp => new OrleansGrainStorageSerializer(sp.GetRequiredService<Serializer>()));
        services.AddRedisGrainStorage("conformance", o => o.Configure<Serializer>((options, serializer) =>
        {
            options.ConfigurationOptions = ConfigurationOptions.Parse(connectionString);
            options.GrainStorageSerializer = new OrleansGrainStorageSerializer(serializer);
        }));
        var provider = services.BuildServiceProvider();
        var storage = provider.GetRequiredKeyedService<IGrainStorage>("conformance");
        var lifecycle = new StartOnlyLifecycle();
        ((ILifecycleParticipant<ISiloLifecycle>)storage).Participate(lifecycle);
        await lifecycle.StartAsync();
        return (storage, provider);
    }

    /// <summary>Just enough of a silo lifecycle to run a provider's start-up (its connection) outside a silo.</summary>
    private sealed class StartOnlyLifecycle : ISiloLifecycle
    {
        private readonly List<(int Stage, ILifecycleObserver Observer)> _observers = [];

        public int HighestCompletedStage { get; private set; }
        public int LowestStoppedStage { get; private set; }

        public IDisposable Subscribe(string observerName, int stage, ILifecycleObserver observer)
        {
            _observers.Add((stage, observer));
            return new Unsubscriber();
        }

        public async Task StartAsync()
        {
            foreach (var (stage, observer) in _observers.OrderBy(o => o.Stage))
            {
                await observer.OnStart(CancellationToken.None);
                HighestCompletedStage = stage;
            }
        }

        private sealed class Unsubscriber : IDisposable
        {
            public void Dispose() { }
        }
    }
}

/// <summary>The conformance suite on the embedded SQLite storage.</summary>
public sealed class SqliteGrainStorageConformanceTests : GrainStorageConformanceTests, IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "scheduler-sqlite-" + Guid.NewGuid().ToString("N")[..8]);
    private readonly Lazy<IGrainStorage> _storage;

    public SqliteGrainStorageConformanceTests() =>
        _storage = new(() => StorageBackends.Sqlite(Path.Combine(_directory, "conformance.db")));

    protected override Task<IGrainStorage> StorageAsync() => Task.FromResult(_storage.Value);

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try { Directory.Delete(_directory, recursive: true); } catch (IOException) { }
    }
}

/// <summary>The conformance suite on Orleans' Redis grain storage (the cluster's), against a private redis-server.</summary>
public sealed class RedisGrainStorageConformanceTests(RedisFixture redis) : GrainStorageConformanceTests, IClassFixture<RedisFixture>, IAsyncLifetime
{
    private (IGrainStorage Storage, IAsyncDisposable Owner)? _backend;

    protected override async Task<IGrainStorage> StorageAsync()
    {
        Skip.If(redis.Server is null, RedisServer.SkipReason);
        _backend ??= await StorageBackends.RedisAsync(redis.Server!.ConnectionString, "conformance-" + Guid.NewGuid().ToString("N")[..8]);
        return _backend.Value.Storage;
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        if (_backend is { } backend) await backend.Owner.DisposeAsync();
    }
}
