namespace Scheduler.LoadTest.Tests;

using System.Text.Json;

/// <summary>
/// The bench runs end to end at a tiny size (<c>--smoke</c>: a few seconds per phase) and writes every key the
/// performance issue names. The figures of such a run mean nothing and are not checked: CI machines differ, and a
/// timed assertion would only make CI flaky.
/// </summary>
[Collection(ProcessWide.Collection)]
public sealed class BenchSmokeTests : IDisposable
{
    private readonly string _json = Path.Combine(Path.GetTempPath(), "bench-smoke-" + Guid.NewGuid().ToString("N")[..8] + ".json");

    [Fact]
    public async Task Bench_Smoke_RunsAndWritesEveryKey()
    {
        var exit = await LoadTool.RunAsync(["--smoke", "--json", _json], CancellationToken.None);

        Assert.Equal(0, exit);
        using var report = JsonDocument.Parse(await File.ReadAllTextAsync(_json));
        var root = report.RootElement;
        foreach (var key in new[]
                 {
                     "telemetrySamplesPerSecond", "grpcStreamingCeilingSamplesPerSecond", "grainCallCeilingPerSecond", "jobCreatesPerSecond",
                     "jobCreateP50Ms", "jobCreateP99Ms", "jobCreateP999Ms", "decisionLatencyP99Ms", "residentMemoryMiB",
                     "tracingOverheadTelemetryPercent", "tracingOverheadJobCreatePercent", "tracingOverheadPacedTelemetryCpu", "targets", "runs", "ceilings", "scale",
                 })
            Assert.True(root.TryGetProperty(key, out _), $"missing key '{key}'");
        Assert.True(root.GetProperty("telemetrySamplesPerSecond").GetDouble() > 0);
        Assert.True(root.GetProperty("jobCreatesPerSecond").GetDouble() > 0);
        // The smoke's window is shorter than a minute: no whole minute, but the key is there.
        Assert.Equal(0, root.GetProperty("scale").GetProperty("decisionLatencyP99MsByMinute").GetArrayLength());
        Assert.Equal(0, root.GetProperty("scale").GetProperty("jobsByMinute").GetArrayLength());
        // The storage's writer is read in the window: the trickle of creates there writes job records.
        Assert.True(root.GetProperty("scale").GetProperty("storage").GetProperty("batches").GetInt32() > 0);
        // The thread pool's spin setting as the process has it: none given to the test host.
        Assert.Equal(JsonValueKind.Null, root.GetProperty("machine").GetProperty("threadPoolSpinLimit").ValueKind);
        Assert.Equal(2, root.GetProperty("runs").GetArrayLength()); // one round: tracing on and off
        Assert.All(root.GetProperty("runs").EnumerateArray(), run => Assert.True(run.GetProperty("pacedTelemetry").GetProperty("accepted").GetInt64() > 0));
        Assert.True(root.GetProperty("ok").GetBoolean(), string.Join("; ", root.GetProperty("problems").EnumerateArray().Select(p => p.GetString())));
    }

    public void Dispose() => File.Delete(_json);
}
