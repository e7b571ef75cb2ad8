namespace Scheduler.Host.Hosting;

using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.FileProviders;

/// <summary>
/// Makes the reloadable configuration files (appsettings*.json) be watched by polling instead of a
/// <see cref="FileSystemWatcher"/>.
/// </summary>
/// <remarks>
/// The default watcher watches the whole content root, subdirectories included, and the data directory (SQLite and its
/// write-ahead log) usually lies inside it (<c>./data</c>). Every committed write then woke the watcher thread with
/// inotify events it only throws away: about 4 % of the CPU of job creation, plus the kernel's share in each write.
/// Polling the few configuration files every 4 s keeps reload-on-change (log levels, for instance) and costs nothing
/// per write.
/// </remarks>
public static class PollingConfigFiles
{
    public static void Apply(IConfigurationBuilder configuration, IHostEnvironment environment)
    {
        var reloadable = configuration.Sources.Select((s, i) => (Source: s as FileConfigurationSource, Index: i))
            .Where(x => x.Source is { ReloadOnChange: true, FileProvider: PhysicalFileProvider { UsePollingFileWatcher: false } })
            .ToList();
        if (reloadable.Count == 0) return;
        var watched = reloadable.Select(x => (PhysicalFileProvider)x.Source!.FileProvider!).Distinct().ToList();
        var polling = new Dictionary<string, PhysicalFileProvider>(StringComparer.Ordinal);
        PhysicalFileProvider Polling(string at) => polling.TryGetValue(at, out var p) ? p
            : polling[at] = new PhysicalFileProvider(at) { UsePollingFileWatcher = true, UseActivePolling = true };
        foreach (var (source, index) in reloadable)
        {
            // Replacing a source makes the configuration manager build its provider again, on the polling provider.
            source!.FileProvider = Polling(((PhysicalFileProvider)source.FileProvider!).Root);
            configuration.Sources[index] = source;
        }
        if (environment.ContentRootFileProvider is PhysicalFileProvider content && watched.Contains(content))
            environment.ContentRootFileProvider = Polling(content.Root);
        // Only now does no source use the old providers: disposing them stops their file system watchers.
        foreach (var provider in watched) provider.Dispose();
    }
}
