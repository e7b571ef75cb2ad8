namespace Scheduler.Storage.Sqlite.Hosting;

using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Providers;
using Orleans.Runtime.Hosting;
using Orleans.Serialization;

public static class SqliteGrainStorageExtensions
{
    /// <summary>Registers SQLite grain storage under the default provider name.</summary>
    public static ISiloBuilder AddSqliteGrainStorageAsDefault(this ISiloBuilder silo, Action<SqliteGrainStorageOptions> configure) =>
        silo.AddSqliteGrainStorage(ProviderConstants.DEFAULT_STORAGE_PROVIDER_NAME, configure);

    /// <summary>
    /// Registers SQLite grain storage under <paramref name="name"/>. Options are validated when the silo starts. Its
    /// instruments are on the meter <see cref="SqliteGrainStorage.MeterName"/>, for the host to export.
    /// </summary>
    public static ISiloBuilder AddSqliteGrainStorage(this ISiloBuilder silo, string name, Action<SqliteGrainStorageOptions> configure)
    {
        var options = new SqliteGrainStorageOptions();
        configure(options);
        silo.Services.AddGrainStorage(name, (sp, _) => new SqliteGrainStorage(options, sp.GetRequiredService<Serializer>(), sp.GetService<IMeterFactory>()));
        return silo;
    }
}
