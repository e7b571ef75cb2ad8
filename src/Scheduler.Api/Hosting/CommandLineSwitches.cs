namespace Scheduler.Api.Hosting;

/// <summary>
/// A process's documented command-line switches (<c>--grpc-port 5000</c>) rewritten into configuration keys
/// (<c>--Scheduler:Host:GrpcPort=5000</c>), and its bare flags (<c>--no-demo</c>) into the settings they stand for.
/// Anything else passes through in the configuration's own command-line syntax. The host and the gateway share it.
/// </summary>
public static class CommandLineSwitches
{
    /// <param name="switches">Switch → configuration key; the value follows as <c>--switch value</c> or <c>--switch=value</c>.</param>
    /// <param name="flags">Flag → the <c>Key=value</c> settings it stands for.</param>
    public static string[] Normalise(string[] args, IReadOnlyDictionary<string, string> switches, IReadOnlyDictionary<string, string[]>? flags = null)
    {
        var result = new List<string>();
        for (var i = 0; i < args.Length; i++)
        {
            var arg = args[i];
            if (flags is not null && flags.TryGetValue(arg, out var settings))
            {
                result.AddRange(settings.Select(s => "--" + s));
                continue;
            }
            var eq = arg.IndexOf('=');
            var key = eq > 0 ? arg[..eq] : arg;
            if (switches.TryGetValue(key, out var mapped))
            {
                var value = eq > 0 ? arg[(eq + 1)..] : i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{key} needs a value");
                result.Add($"--{mapped}={value}");
                continue;
            }
            result.Add(arg);
        }
        return [.. result];
    }
}
