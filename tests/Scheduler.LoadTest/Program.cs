// Load tool: the real host in process, driven over loopback gRPC. See README.md next to this file.
using Scheduler.LoadTest;

if (args.Contains("--help") || args.Contains("-h"))
{
    Console.WriteLine(LoadOptions.Usage);
    return 0;
}

LoadOptions options;
try
{
    options = LoadOptions.Parse(args);
}
catch (ArgumentException ex)
{
    Console.Error.WriteLine(ex.Message);
    Console.Error.WriteLine(LoadOptions.Usage);
    return 2;
}

// The measurement is of the in-process no-op exporter only; an OTLP endpoint in the environment would add real export.
if (Environment.GetEnvironmentVariable("OTEL_EXPORTER_OTLP_ENDPOINT") is { Length: > 0 })
{
    Console.Error.WriteLine("note: ignoring OTEL_EXPORTER_OTLP_ENDPOINT for this run");
    Environment.SetEnvironmentVariable("OTEL_EXPORTER_OTLP_ENDPOINT", null);
}

using var cancellation = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    cancellation.Cancel();
};

var startedAt = DateTimeOffset.UtcNow;
RunResult? warmUp = null;
if (options.WarmupSeconds > 0)
{
    warmUp = await LoadRun.WarmUpAsync(options, cancellation.Token);
    CollectGarbage();
}
var runs = new List<RunResult>();
foreach (var tracing in options.TracingRuns)
{
    runs.Add(await LoadRun.ExecuteAsync(options, tracing, cancellation.Token));
    CollectGarbage();
}

var report = Report.From(options, startedAt, runs, warmUp);
Console.WriteLine(report.ToTable());
if (options.JsonPath is { } path)
{
    await File.WriteAllTextAsync(path, report.ToJson());
    Console.Error.WriteLine($"wrote {Path.GetFullPath(path)}");
}
return report.Ok ? 0 : 1;

// Each host starts from a clean heap.
static void CollectGarbage()
{
    GC.Collect();
    GC.WaitForPendingFinalizers();
    GC.Collect();
}
