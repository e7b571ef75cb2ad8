namespace Scheduler.Host.Hosting;

/// <summary>How the embedded host listens, stores and demonstrates. Section <c>Scheduler:Host</c>; command-line switches in brackets.</summary>
public sealed class SchedulerHostOptions
{
    public const string Section = "Scheduler:Host";

    /// <summary>gRPC port, HTTP/2 only, on 127.0.0.1 [--grpc-port]. Default: 5000.</summary>
    public int GrpcPort { get; set; } = 5000;

    /// <summary>Health port, HTTP/1.1, on 127.0.0.1, serving <c>/healthz</c> [--http-port]. Default: 5001.</summary>
    public int HttpPort { get; set; } = 5001;

    /// <summary>Directory of the embedded database (<c>scheduler.db</c>) and the demo clock [--data-dir]. Default: <c>data</c>.</summary>
    public string DataDir { get; set; } = "data";

    /// <summary>Play the demo: plant telemetry from bundled real data, and a trickle of demo jobs [--no-demo turns it off]. Default: true.</summary>
    public bool Demo { get; set; } = true;

    /// <summary>
    /// How many times faster than real time the scheduler's clock runs [--speed]. The demo plays hourly weather, so
    /// 720 shows a day in two minutes. Default: 720 with the demo, 1 without.
    /// </summary>
    public double? Speed { get; set; }

    /// <summary>Orleans silo-to-silo port [--silo-port]. Default: 11111.</summary>
    public int SiloPort { get; set; } = 11111;

    /// <summary>Orleans client gateway port [--gateway-port]. Default: 30000.</summary>
    public int GatewayPort { get; set; } = 30000;

    /// <summary>Seconds of real time between demo job submissions. Default: 4.</summary>
    public double DemoJobIntervalSeconds { get; set; } = 4;

    /// <summary>
    /// Replay mode [--replay]: the scheduler's clock is virtual and moves only through <c>ReplayService</c>, the fleet
    /// ticks only when told to, and the demo is off. Default: false.
    /// </summary>
    public bool Replay { get; set; }

    /// <summary>
    /// Serve the gRPC API on <see cref="GrpcPort"/> [--no-grpc turns it off]. Off for silos behind stateless gateways
    /// (<c>src/Scheduler.Gateway</c>): they then listen only for health and Orleans. Needs <c>Cluster:Mode=Redis</c>, and
    /// the demo and replay off (both drive the API in-process). Default: true.
    /// </summary>
    public bool ServeGrpc { get; set; } = true;

    public double EffectiveSpeed => Speed ?? (Demo ? 720 : 1);

    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        foreach (var (name, port) in new[] { ("GrpcPort", GrpcPort), ("HttpPort", HttpPort), ("SiloPort", SiloPort), ("GatewayPort", GatewayPort) })
            if (port is < 1 or > 65535) errors.Add($"{Section}:{name} must be a TCP port (1-65535), was {port}");
        if (new[] { GrpcPort, HttpPort, SiloPort, GatewayPort }.Distinct().Count() != 4) errors.Add($"{Section}: the four ports must differ");
        if (string.IsNullOrWhiteSpace(DataDir)) errors.Add($"{Section}:DataDir must not be empty");
        if (!(EffectiveSpeed is > 0 and <= 1_000_000)) errors.Add($"{Section}:Speed must be in (0, 1000000], was {EffectiveSpeed}");
        if (!(DemoJobIntervalSeconds > 0)) errors.Add($"{Section}:DemoJobIntervalSeconds must be > 0");
        if (Replay && Demo) errors.Add($"{Section}: Replay and Demo exclude each other (--replay turns the demo off)");
        if (!ServeGrpc && Demo) errors.Add($"{Section}: ServeGrpc=false (--no-grpc) needs the demo off (--no-demo): the demo plays through this silo's gRPC API");
        if (!ServeGrpc && Replay) errors.Add($"{Section}: ServeGrpc=false (--no-grpc) cannot be combined with replay mode (a replay drives this silo's gRPC API)");
        if (Replay && Speed is not null) errors.Add($"{Section}: Speed has no meaning in replay mode (the replay sets the clock)");
        return errors;
    }

    /// <summary>Command-line switches to configuration keys.</summary>
    public static readonly IReadOnlyDictionary<string, string> Switches = new Dictionary<string, string>
    {
        ["--grpc-port"] = $"{Section}:GrpcPort",
        ["--http-port"] = $"{Section}:HttpPort",
        ["--data-dir"] = $"{Section}:DataDir",
        ["--speed"] = $"{Section}:Speed",
        ["--silo-port"] = $"{Section}:SiloPort",
        ["--gateway-port"] = $"{Section}:GatewayPort",
        ["--tls-port"] = $"{Scheduler.Api.Security.SchedulerTlsOptions.Section}:Port",
    };

    /// <summary>Bare flags and the settings they stand for.</summary>
    public static readonly IReadOnlyDictionary<string, string[]> Flags = new Dictionary<string, string[]>
    {
        ["--no-demo"] = [$"{Section}:Demo=false"],
        ["--no-grpc"] = [$"{Section}:ServeGrpc=false"],
        ["--replay"] = [$"{Section}:Replay=true", $"{Section}:Demo=false"],
    };

    /// <summary>Rewrites the documented switches and flags into configuration keys.</summary>
    public static string[] NormaliseArgs(string[] args) => Scheduler.Api.Hosting.CommandLineSwitches.Normalise(args, Switches, Flags);
}
