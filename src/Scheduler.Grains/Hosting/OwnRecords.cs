namespace Scheduler.Grains.Hosting;

using Microsoft.Extensions.DependencyInjection;
using Orleans.Providers;
using Orleans.Storage;

/// <summary>Where a grain writes records of its own beside its state (catalogue pages, journal slots).</summary>
internal static class OwnRecords
{
    /// <summary>The storage the grain's own state uses (the default provider), so both move and back up together.</summary>
    public static IGrainStorage Storage(IServiceProvider services) =>
        services.GetRequiredKeyedService<IGrainStorage>(ProviderConstants.DEFAULT_STORAGE_PROVIDER_NAME);
}
