namespace Scheduler.LoadTest;

using System.Globalization;

/// <summary>Command-line options of <c>bench</c>. Defaults are the full run; <c>--quick</c> is a small one for a first look.</summary>
public sealed record LoadOptions
{
    public const string Usage = """
        usage: dotnet run -c Release --project src/Scheduler.Cli -- bench [options]
          --quick              100 plants on 15 sites, 5 s per scenario, 1 round, 1,000 active and 5,000 jobs for memory
                               (default: 1,000 plants on 150 sites, 10 s per scenario, 12 rounds, 10,000 and 100,000)
          --smoke              a few seconds in all, to check that the tool runs and reports (CI); figures mean nothing
          --json FILE          also write the results as JSON
          --rounds N           tracing-on/tracing-off pairs, each on fresh hosts, in the order on-off, off-on, … (default
                               12; a rank-sum test over the hosts settles each tracing target, and needs 3 of each at least)
          --tracing on|off     rounds in one mode only (no overhead figure)
          --duration SECONDS   measured seconds per scenario and round
          --warmup SECONDS     telemetry seconds of the throwaway warm-up run before everything (default 15; 0: none)
          --active-jobs N      jobs created for the decision-latency phase (the scale of the target: 10,000)
          --memory-jobs N      jobs in the region when resident memory is read (100,000); 0 skips the memory phase
          --scale-seconds S    seconds of 1 Hz telemetry over which decision latency is read, also reported per whole
                               minute (default 300)
          --front-every S      in the scale phase, a weather front darkens one more site every S seconds for 30 s, so
                               that telemetry triggers decisions (relocations, pauses, resumes); the fronts start 30 s
                               before the latency window; 0: no fronts (default 10)
          --paced-rate N       after the all-out telemetry of each host, telemetry paced at N samples/s for the same time;
                               its CPU per sample gives a second tracing-overhead figure (default 15,000; 0: skip)
          --sample-ratio R     Scheduler:Tracing:SampleRatio and TelemetrySampleRatio for the tracing-on hosts (default: the host's)
          --span-profile       with tracing, also time spans by name (printed to stderr); it adds its own cost
          --no-span-profile    with tracing, only count spans (default)
          --no-ceilings        skip the grpc-dotnet and Orleans baselines
          --plants N  --sites N  --streams N (telemetry streams, 8)  --concurrency N (CreateJob calls in flight, 16)
        """;

    public bool Quick { get; init; }
    public bool Smoke { get; init; }
    public string? JsonPath { get; init; }
    public IReadOnlyList<bool> TracingModes { get; init; } = [true, false];
    public int Rounds { get; init; } = 12;
    public int Plants { get; init; } = 1_000;
    public int Sites { get; init; } = 150;
    public int Streams { get; init; } = 8;
    public int Concurrency { get; init; } = 16;
    public double DurationSeconds { get; init; } = 10;
    public double WarmupSeconds { get; init; } = 15;
    public int ActiveJobs { get; init; } = 10_000;
    public int MemoryJobs { get; init; } = 100_000;
    public double ScaleSeconds { get; init; } = 300;
    public int FrontEverySeconds { get; init; } = 10;
    public int PacedSamplesPerSecond { get; init; } = 15_000;
    public bool SpanProfile { get; init; }
    public bool Ceilings { get; init; } = true;
    public double? SampleRatio { get; init; }

    /// <summary>The sampling ratio the tracing-on hosts run with: the option, or the host's default.</summary>
    public double EffectiveSampleRatio => SampleRatio ?? new Scheduler.Api.Hosting.SchedulerTracingOptions().SampleRatio;

    public double EffectiveTelemetrySampleRatio => SampleRatio ?? new Scheduler.Api.Hosting.SchedulerTracingOptions().TelemetrySampleRatio;

    public TimeSpan Duration => TimeSpan.FromSeconds(DurationSeconds);
    public TimeSpan Warmup => TimeSpan.FromSeconds(WarmupSeconds);

    /// <summary>Parses the arguments; throws <see cref="ArgumentException"/> with a message for the user.</summary>
    public static LoadOptions Parse(IReadOnlyList<string> args)
    {
        var options = args.Contains("--smoke")
            ? new LoadOptions
            {
                Smoke = true, Plants = 16, Sites = 3, Streams = 2, Concurrency = 4, DurationSeconds = 1, WarmupSeconds = 0, Rounds = 1,
                ActiveJobs = 50, MemoryJobs = 100, ScaleSeconds = 2, PacedSamplesPerSecond = 200,
            }
            : args.Contains("--quick")
                ? new LoadOptions { Quick = true, Plants = 100, Sites = 15, DurationSeconds = 5, Rounds = 1, ActiveJobs = 1_000, MemoryJobs = 5_000, ScaleSeconds = 10, PacedSamplesPerSecond = 5_000 }
                : new LoadOptions();
        for (var i = 0; i < args.Count; i++)
        {
            string Value() => i + 1 < args.Count ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            int Count(int min) => int.TryParse(Value(), NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n >= min
                ? n : throw new ArgumentException($"{args[i - 1]} must be an integer >= {min}");
            double Seconds(double min) => double.TryParse(Value(), NumberStyles.Float, CultureInfo.InvariantCulture, out var s) && s >= min && s <= 3_600
                ? s : throw new ArgumentException($"{args[i - 1]} must be a number of seconds in [{min}, 3600]");
            options = args[i] switch
            {
                "--quick" or "--smoke" => options,
                "--span-profile" => options with { SpanProfile = true },
                "--no-span-profile" => options with { SpanProfile = false },
                "--no-ceilings" => options with { Ceilings = false },
                "--json" => options with { JsonPath = Value() },
                "--tracing" => options with
                {
                    TracingModes = Value() switch
                    {
                        "on" => [true],
                        "off" => [false],
                        var v => throw new ArgumentException($"--tracing must be on or off, was '{v}'"),
                    },
                },
                "--sample-ratio" => options with
                {
                    SampleRatio = double.TryParse(Value(), NumberStyles.Float, CultureInfo.InvariantCulture, out var r) && r is >= 0 and <= 1
                        ? r : throw new ArgumentException("--sample-ratio must be within [0, 1]"),
                },
                "--rounds" => options with { Rounds = Count(1) },
                "--duration" => options with { DurationSeconds = Seconds(1) },
                "--warmup" => options with { WarmupSeconds = Seconds(0) },
                "--scale-seconds" => options with { ScaleSeconds = Seconds(1) },
                "--front-every" => options with { FrontEverySeconds = Count(0) },
                "--active-jobs" => options with { ActiveJobs = Count(1) },
                "--memory-jobs" => options with { MemoryJobs = Count(0) },
                "--paced-rate" => options with { PacedSamplesPerSecond = Count(0) },
                "--plants" => options with { Plants = Count(1) },
                "--sites" => options with { Sites = Count(1) },
                "--streams" => options with { Streams = Count(1) },
                "--concurrency" => options with { Concurrency = Count(1) },
                var other => throw new ArgumentException($"unknown option '{other}'"),
            };
        }
        if (options.Sites < 2) throw new ArgumentException("--sites must be at least 2 (sites are linked to their neighbours)");
        if (options.Plants < options.Streams) throw new ArgumentException("--plants must be at least --streams");
        if (options.MemoryJobs is > 0 && options.MemoryJobs < options.ActiveJobs) throw new ArgumentException("--memory-jobs must be 0 or at least --active-jobs");
        return options;
    }
}
