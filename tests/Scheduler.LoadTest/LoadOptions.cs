namespace Scheduler.LoadTest;

using System.Globalization;

/// <summary>Command-line options. Defaults are the full run; <c>--quick</c> is a small one for a first look.</summary>
internal sealed record LoadOptions
{
    public const string Usage = """
        usage: dotnet run -c Release --project tests/Scheduler.LoadTest -- [options]
          --quick              100 plants on 15 sites, 5 s per scenario (default: 1,000 plants on 150 sites, 20 s)
          --json FILE          also write the results as JSON
          --tracing on|off     one run only, with or without the host's telemetry (default: both, on then off,
                               and the tracing overhead)
          --duration SECONDS   measured seconds per scenario (overrides --quick's 5 and the default 20)
          --warmup SECONDS     telemetry seconds of the throwaway warm-up run before the measured runs, which also
                               creates jobs for a third of that (default 15; 0: no warm-up run)
          --sample-ratio R     Scheduler:Tracing:SampleRatio for the tracing-on hosts (default: the host's default)
          --no-span-profile    with tracing, only count spans (default: also time them by name, printed to stderr)
          --plants N  --sites N  --streams N (telemetry streams, 8)  --concurrency N (CreateJob calls in flight, 16)
        """;

    public bool Quick { get; init; }
    public string? JsonPath { get; init; }
    public IReadOnlyList<bool> TracingRuns { get; init; } = [true, false];
    public int Plants { get; init; } = 1_000;
    public int Sites { get; init; } = 150;
    public int Streams { get; init; } = 8;
    public int Concurrency { get; init; } = 16;
    public double DurationSeconds { get; init; } = 20;
    public double WarmupSeconds { get; init; } = 15;
    public bool SpanProfile { get; init; } = true;
    public double? SampleRatio { get; init; }

    /// <summary>The sampling ratio the tracing-on hosts run with: the option, or the host's default.</summary>
    public double EffectiveSampleRatio => SampleRatio ?? new Scheduler.Host.Hosting.SchedulerTracingOptions().SampleRatio;

    public TimeSpan Duration => TimeSpan.FromSeconds(DurationSeconds);
    public TimeSpan Warmup => TimeSpan.FromSeconds(WarmupSeconds);

    /// <summary>Parses the arguments; throws <see cref="ArgumentException"/> with a message for the user.</summary>
    public static LoadOptions Parse(string[] args)
    {
        var quick = args.Contains("--quick");
        var options = quick ? new LoadOptions { Quick = true, Plants = 100, Sites = 15, DurationSeconds = 5 } : new LoadOptions();
        for (var i = 0; i < args.Length; i++)
        {
            string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            int Count() => int.TryParse(Value(), NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n > 0 ? n : throw new ArgumentException($"{args[i - 1]} must be a positive integer");
            double Seconds(double min) => double.TryParse(Value(), NumberStyles.Float, CultureInfo.InvariantCulture, out var s) && s >= min && s <= 3_600
                ? s : throw new ArgumentException($"{args[i - 1]} must be a number of seconds in [{min}, 3600]");
            options = args[i] switch
            {
                "--quick" => options,
                "--no-span-profile" => options with { SpanProfile = false },
                "--json" => options with { JsonPath = Value() },
                "--tracing" => options with
                {
                    TracingRuns = Value() switch
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
                "--duration" => options with { DurationSeconds = Seconds(1) },
                "--warmup" => options with { WarmupSeconds = Seconds(0) },
                "--plants" => options with { Plants = Count() },
                "--sites" => options with { Sites = Count() },
                "--streams" => options with { Streams = Count() },
                "--concurrency" => options with { Concurrency = Count() },
                var other => throw new ArgumentException($"unknown option '{other}'"),
            };
        }
        if (options.Sites < 2) throw new ArgumentException("--sites must be at least 2 (sites are linked to their neighbours)");
        if (options.Plants < options.Streams) throw new ArgumentException("--plants must be at least --streams");
        return options;
    }
}
