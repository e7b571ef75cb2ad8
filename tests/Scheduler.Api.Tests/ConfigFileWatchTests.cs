namespace Scheduler.Api.Tests;

using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.FileProviders;
using Scheduler.Host.Hosting;

/// <summary>The configuration files are polled, not watched with the content root's file system watcher (which also saw every write under ./data).</summary>
public class ConfigFileWatchTests
{
    [Fact]
    public async Task ConfigFiles_ArePolled_AndStillReload()
    {
        var root = Directory.CreateTempSubdirectory("config-watch-").FullName;
        try
        {
            await File.WriteAllTextAsync(Path.Combine(root, "appsettings.json"), """{ "Probe": "before" }""");
            await using var app = SchedulerApp.Build(new WebApplicationOptions
            {
                ContentRootPath = root,
                Args = ["--no-demo", "--data-dir", Path.Combine(root, "data")],
            });
            var sources = ((IConfigurationBuilder)app.Configuration).Sources.OfType<FileConfigurationSource>().Where(s => s.ReloadOnChange).ToList();
            Assert.NotEmpty(sources);
            // UseActivePolling is off by default and is set only with polling (the getter of UsePollingFileWatcher reads
            // false once the provider has made its watcher, so it cannot tell the two apart).
            Assert.All(sources, s => Assert.True(Assert.IsType<PhysicalFileProvider>(s.FileProvider).UseActivePolling));
            Assert.Equal("before", app.Configuration["Probe"]);

            // Reload on change still works (the poll runs every 4 s; the bound here is only against hanging).
            await File.WriteAllTextAsync(Path.Combine(root, "appsettings.json"), """{ "Probe": "after" }""");
            File.SetLastWriteTimeUtc(Path.Combine(root, "appsettings.json"), DateTime.UtcNow.AddSeconds(5));
            var until = DateTime.UtcNow.AddSeconds(60);
            while (app.Configuration["Probe"] != "after" && DateTime.UtcNow < until) await Task.Delay(100);
            Assert.Equal("after", app.Configuration["Probe"]);
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }
}
