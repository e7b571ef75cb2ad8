namespace Scheduler.LoadTest;

using Microsoft.Extensions.DependencyInjection;

/// <summary>
/// The load tool behind <c>scheduler bench</c>: the real host in process, driven over loopback gRPC, with the
/// ceilings of grpc-dotnet and Orleans measured in the same run. See README.md next to this file.
/// </summary>
public static class LoadTool
{
    /// <summary>Runs the tool with command-line arguments; returns the exit code (0 ok, 1 problems, 2 usage).</summary>
    public static async Task<int> RunAsync(IReadOnlyList<string> args, CancellationToken cancellation)
    {
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

        var startedAt = DateTimeOffset.UtcNow;
        var loadBefore = LoadAverage.Read();
        RunResult? warmUp = null;
        if (options.WarmupSeconds > 0)
        {
            warmUp = await LoadRun.WarmUpAsync(options, cancellation);
            CollectGarbage();
        }

        CeilingResult? unary = null, streaming = null, grainCalls = null;
        if (options.Ceilings)
        {
            Console.Error.WriteLine($"== ceilings: grpc-dotnet empty service, {options.Concurrency} unary callers and {options.Streams} client streams, {options.DurationSeconds:0.#} s each");
            var plants = LoadPlant.Fleet(options.Plants, options.Sites);
            (unary, streaming) = await Ceilings.GrpcAsync(options.Concurrency, options.Streams, plants, options.Duration, cancellation);
            Console.Error.WriteLine($"   unary {unary.PerSecond:N0} calls/s (p99 {unary.P99Ms:0.00} ms); streaming {streaming.PerSecond:N0} messages/s");
            CollectGarbage();
            Console.Error.WriteLine($"== ceilings: Orleans ping grain, {options.Concurrency} callers in the silo, {options.DurationSeconds:0.#} s");
            await using (var host = await LoadHost.StartAsync(tracing: false, null, spanProfile: false))
                grainCalls = await Ceilings.GrainCallsAsync(host.Services.GetRequiredService<IGrainFactory>(), options.Concurrency, options.Duration);
            Console.Error.WriteLine($"   {grainCalls.PerSecond:N0} calls/s (p99 {grainCalls.P99Ms:0.000} ms)");
            CollectGarbage();
        }

        // Rounds alternate the order (on-off, off-on, …) so that neither mode always runs first or on a warmer process.
        var runs = new List<RunResult>();
        for (var round = 0; round < options.Rounds; round++)
        {
            var order = round % 2 == 0 ? options.TracingModes : options.TracingModes.Reverse().ToList();
            foreach (var tracing in order)
            {
                runs.Add(await LoadRun.ExecuteAsync(options, tracing, round, cancellation));
                CollectGarbage();
            }
        }

        ScaleResult scale;
        try
        {
            scale = await ScalePhase.RunAsync(options, cancellation);
        }
        catch (Exception ex) when (!cancellation.IsCancellationRequested)
        {
            // The rounds' figures stand on their own: report them, and the failure, rather than nothing.
            Console.Error.WriteLine($"scale phase failed: {ex}");
            scale = ScaleResult.Failed(options, $"scale phase failed: {ex.GetType().Name}: {ex.Message}");
        }
        var loadAfter = LoadAverage.Read();

        var report = Report.From(options, startedAt, runs, warmUp, unary, streaming, grainCalls, scale, loadBefore, loadAfter);
        Console.WriteLine(report.ToTable());
        if (options.JsonPath is { } path)
        {
            await File.WriteAllTextAsync(path, report.ToJson(), cancellation);
            Console.Error.WriteLine($"wrote {Path.GetFullPath(path)}");
        }
        return report.Ok ? 0 : 1;
    }

    // Each host starts from a clean heap.
    private static void CollectGarbage()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
    }
}

/// <summary>The machine's 1-minute load average (/proc/loadavg), to judge how shared the machine was; null elsewhere.</summary>
internal static class LoadAverage
{
    public static double? Read()
    {
        const string path = "/proc/loadavg";
        if (!File.Exists(path)) return null;
        return double.TryParse(File.ReadAllText(path).Split(' ')[0], System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var v) ? v : null;
    }
}
