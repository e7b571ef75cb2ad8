namespace Scheduler.LoadTest;

/// <summary>
/// One run on a fresh host: set up the load fleet, then telemetry ingest, then job creation. Before the measured runs,
/// a throwaway warm-up run (tracing on, the same fleet) gets the process's code JIT-compiled to its final tier, so the
/// first measured run does not pay for compilation the second one gets for free. With a small fleet (15 sites) the
/// first measured round still created jobs 15–30 % slower than the later ones.
/// </summary>
internal static class LoadRun
{
    public static Task<RunResult> ExecuteAsync(LoadOptions options, bool tracing, int round, CancellationToken cancellation) =>
        ExecuteAsync(round, tracing ? $"round {round + 1}, tracing on" : $"round {round + 1}, tracing off", tracing, options.SampleRatio, options.SpanProfile, options.Sites, options.Plants, options.Streams,
            options.Concurrency, options.Duration, options.Duration, cancellation, options.PacedSamplesPerSecond);

    public static Task<RunResult> WarmUpAsync(LoadOptions options, CancellationToken cancellation) =>
        ExecuteAsync(-1, "warm-up", tracing: true, options.SampleRatio, spanProfile: false, options.Sites, options.Plants, options.Streams,
            options.Concurrency, options.Warmup, options.Warmup / 3, cancellation);

    private static async Task<RunResult> ExecuteAsync(int round, string name, bool tracing, double? sampleRatio, bool spanProfile, int sites, int plants, int streams,
        int concurrency, TimeSpan telemetryDuration, TimeSpan jobDuration, CancellationToken cancellation, int pacedSamplesPerSecond = 0)
    {
        Console.Error.WriteLine($"== {name}: starting the host");
        var host = await LoadHost.StartAsync(tracing, sampleRatio, spanProfile);
        double residentMiB;
        SetupResult setup;
        TelemetryResult telemetry;
        TelemetryResult? paced = null;
        JobCreateResult jobs;
        try
        {
            Console.Error.WriteLine($"== {name}: fleet set-up, {sites} sites, {plants} plants, {sites - 1} links");
            (var fleet, setup) = await FleetSetup.RunAsync(host, sites, plants, cancellation);
            Console.Error.WriteLine($"   {setup.Seconds:0.0} s; the fleet now has {setup.FleetSitesAfter} sites and {setup.FleetPlantsAfter} plants");

            Console.Error.WriteLine($"== {name}: telemetry, {streams} streams, {telemetryDuration.TotalSeconds:0.#} s");
            telemetry = await new TelemetryScenario(host, fleet, streams).RunAsync(telemetryDuration, $"telemetry, {name}", cancellation);
            Console.Error.WriteLine($"   accepted {telemetry.Accepted:N0}, rejected {telemetry.Rejected:N0}: {telemetry.SamplesPerSecond:N0} samples/s over {telemetry.Seconds:0.0} s (the last reply came {telemetry.OverrunSeconds:0.0} s after the duration)");
            PrintRuntime(telemetry.Runtime);
            PrintProfile(telemetry.SpanProfile);

            if (pacedSamplesPerSecond > 0)
            {
                // Below saturation the CPU a sample costs is measured directly, without the swings of an all-out run.
                var pace = TimeSpan.FromSeconds((double)plants / pacedSamplesPerSecond);
                Console.Error.WriteLine($"== {name}: telemetry paced at {pacedSamplesPerSecond:N0} samples/s, {telemetryDuration.TotalSeconds:0.#} s");
                paced = await new TelemetryScenario(host, fleet, streams, pace).RunAsync(telemetryDuration, $"paced telemetry, {name}", cancellation);
                Console.Error.WriteLine($"   accepted {paced.Accepted:N0}: {paced.SamplesPerSecond:N0} samples/s, {paced.CpuMicrosecondsPerSample:0.0} µs of CPU per sample");
                PrintRuntime(paced.Runtime);
            }

            Console.Error.WriteLine($"== {name}: job creation, {concurrency} in flight, {jobDuration.TotalSeconds:0.#} s");
            jobs = await new JobCreateScenario(host, fleet, concurrency).RunAsync(jobDuration, $"jobs, {name}", cancellation);
            Console.Error.WriteLine($"   created {jobs.Created:N0} ({jobs.CreatesPerSecond:N0}/s), p50 {jobs.P50Ms:0.00} ms, p99 {jobs.P99Ms:0.00} ms, p99.9 {jobs.P999Ms:0.00} ms, errors {jobs.Errors}");
            PrintRuntime(jobs.Runtime);
            PrintProfile(jobs.SpanProfile);
            residentMiB = Math.Round(Environment.WorkingSet / 1048576.0, 1);
        }
        finally
        {
            Console.Error.WriteLine($"== {name}: stopping the host");
            await host.DisposeAsync();
        }
        return new RunResult(round, tracing ? "on" : "off", LoadAverage.Read(), setup, telemetry, jobs, residentMiB, host.Spans?.Ended, host.Spans?.Exported, paced);
    }

    internal static void PrintRuntime(RuntimeStats r) =>
        Console.Error.WriteLine($"   process: CPU {r.CpuSeconds:0.0} s ({r.CpuUtilisation:P0} of all cores), allocated {r.AllocatedMiB:N0} MiB, GC pauses {r.GcPauseMs:N0} ms (gen0 {r.Gen0}, gen1 {r.Gen1}, gen2 {r.Gen2}), {r.ThreadPoolThreads} thread-pool threads; other processes: {(r.OtherProcessesCpuSeconds is { } o ? $"{o:0.0} CPU s" : "n/a")}");

    private static void PrintProfile(IReadOnlyList<SpanProfile>? profile)
    {
        if (profile is not { Count: > 0 }) return;
        Console.Error.WriteLine("   spans by total duration (nested spans overlap): count, total ms, mean ms, max ms");
        foreach (var p in profile) Console.Error.WriteLine($"     {p.Name + " (" + p.Kind + ")",-60} {p.Count,8:N0} {p.TotalMs,10:N0} {p.MeanMs,8:N2} {p.MaxMs,9:N1}");
    }
}
