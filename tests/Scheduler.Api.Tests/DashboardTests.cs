namespace Scheduler.Api.Tests;

using System.Diagnostics;
using System.Net;
using System.Text.Json;
using Scheduler.Api.V1;

/// <summary>
/// End to end with the real viewer: the Aspire dashboard binary (restored by tools/dashboard) receives the host's
/// OTLP export, and its JSON API returns the scheduler's decision spans.
/// </summary>
public sealed class DashboardTests
{
    private const string PackageVersion = "13.6.5";

    [SkippableFact]
    public async Task Dashboard_ReceivesTheDecisionSpans_OverOtlp()
    {
        var binary = DashboardBinary();
        Skip.IfNot(File.Exists(binary),
            $"the Aspire dashboard (NuGet Aspire.Dashboard.Sdk.linux-x64 {PackageVersion}) is not restored at {binary}; run: dotnet restore tools/dashboard/Dashboard.csproj");

        var ports = Scheduler.Host.Hosting.LoopbackPorts.Free(2);
        var (uiPort, otlpPort) = (ports[0], ports[1]);
        using var dashboard = Process.Start(new ProcessStartInfo(binary)
        {
            UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true,
            Environment =
            {
                ["ASPNETCORE_URLS"] = $"http://127.0.0.1:{uiPort}",
                ["ASPIRE_DASHBOARD_OTLP_ENDPOINT_URL"] = $"http://127.0.0.1:{otlpPort}",
                ["ASPIRE_DASHBOARD_UNSECURED_ALLOW_ANONYMOUS"] = "true",
                ["ASPIRE_ALLOW_UNSECURED_TRANSPORT"] = "true",
            },
        })!;
        dashboard.OutputDataReceived += (_, _) => { };
        dashboard.ErrorDataReceived += (_, _) => { };
        dashboard.BeginOutputReadLine();
        dashboard.BeginErrorReadLine();
        try
        {
            using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{uiPort}") };
            await WaitUntilAsync(async () => (await TryGetAsync(http, "/api/telemetry/traces")) is not null, TimeSpan.FromSeconds(60), "the dashboard did not start");

            await using var host = await SchedulerHost.StartFreshAsync(b =>
            {
                // The standard OTEL_* settings, given as configuration rather than process environment.
                b.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"] = $"http://127.0.0.1:{otlpPort}";
                b.Configuration["OTEL_BSP_SCHEDULE_DELAY"] = "200";
            });
            await host.TickAsync(TimeSpan.FromMinutes(1));
            await host.PushWindAsync("horinger");
            var job = await new JobService.JobServiceClient(host.Channel).CreateJobAsync(new CreateJobRequest
            {
                RequestId = "dash-1", Job = new JobSpec { Tenant = "viewer", Gpus = 64, WorkGpuHours = 100 },
            });
            await host.TickAsync(TimeSpan.Zero);

            string? found = null;
            await WaitUntilAsync(async () =>
            {
                var json = await TryGetAsync(http, "/api/telemetry/traces");
                found = json is null ? null : DecisionSpanFor(json, job.Id);
                return found is not null;
            }, TimeSpan.FromSeconds(30), "no scheduler.decision span for the job reached the dashboard");
            Assert.Equal("scheduler.decision place", found);
        }
        finally
        {
            if (!dashboard.HasExited) dashboard.Kill(entireProcessTree: true);
        }
    }

    /// <summary>The name of the decision span whose <c>scheduler.job.id</c> is <paramref name="jobId"/>, if any.</summary>
    private static string? DecisionSpanFor(string json, string jobId)
    {
        using var doc = JsonDocument.Parse(json);
        foreach (var resource in doc.RootElement.GetProperty("data").GetProperty("resourceSpans").EnumerateArray())
        foreach (var scope in resource.GetProperty("scopeSpans").EnumerateArray())
        foreach (var span in scope.GetProperty("spans").EnumerateArray())
        {
            var name = span.GetProperty("name").GetString();
            if (name is null || !name.StartsWith("scheduler.decision", StringComparison.Ordinal) || !span.TryGetProperty("attributes", out var attributes)) continue;
            if (attributes.EnumerateArray().Any(a => a.GetProperty("key").GetString() == "scheduler.job.id"
                && a.GetProperty("value").TryGetProperty("stringValue", out var v) && v.GetString() == jobId)) return name;
        }
        return null;
    }

    private static string DashboardBinary()
    {
        var packages = Environment.GetEnvironmentVariable("NUGET_PACKAGES")
            ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        return Path.Combine(packages, "aspire.dashboard.sdk.linux-x64", PackageVersion, "tools", "Aspire.Dashboard");
    }

    private static async Task<string?> TryGetAsync(HttpClient http, string path)
    {
        try
        {
            var response = await http.GetAsync(path);
            return response.StatusCode == HttpStatusCode.OK ? await response.Content.ReadAsStringAsync() : null;
        }
        catch (HttpRequestException) { return null; }
    }

    private static async Task WaitUntilAsync(Func<Task<bool>> condition, TimeSpan timeout, string failure)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, failure);
            await Task.Delay(250);
        }
    }
}
