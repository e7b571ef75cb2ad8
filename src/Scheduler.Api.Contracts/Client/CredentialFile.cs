namespace Scheduler.Api.Client;

using System.Text.Json;
using System.Text.Json.Serialization;

/// <summary>
/// The user-level credential file, as kubectl keeps <c>~/.kube/config</c>: one token per scheduler address. The
/// embedded host writes its operator token here on start (development mode); the CLI reads it when neither
/// <c>--token</c> nor <c>SCHEDULER_TOKEN</c> is given. Path: <c>$SCHEDULER_CREDENTIALS</c>, else
/// <c>$XDG_CONFIG_HOME/green-scheduler/credentials.json</c>, else <c>~/.config/green-scheduler/credentials.json</c>.
/// </summary>
public static class CredentialFile
{
    public const string PathVariable = "SCHEDULER_CREDENTIALS";

    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.CamelCase };

    /// <summary>The file's path, or null when there is no home directory to put it in.</summary>
    public static string? DefaultPath()
    {
        if (Environment.GetEnvironmentVariable(PathVariable) is { Length: > 0 } explicitPath) return explicitPath;
        var config = Environment.GetEnvironmentVariable("XDG_CONFIG_HOME");
        if (string.IsNullOrEmpty(config))
        {
            var home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
            if (string.IsNullOrEmpty(home)) return null;
            config = Path.Combine(home, ".config");
        }
        return Path.Combine(config, "green-scheduler", "credentials.json");
    }

    /// <summary>The token stored for <paramref name="address"/>, or null (no file, no entry, unreadable file).</summary>
    public static string? ReadToken(string path, string address)
    {
        try
        {
            if (!File.Exists(path)) return null;
            var servers = JsonSerializer.Deserialize<Document>(File.ReadAllText(path), Json)?.Servers;
            return servers is not null && servers.TryGetValue(Normalise(address), out var entry) ? entry.Token : null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or JsonException)
        {
            return null;
        }
    }

    /// <summary>
    /// Stores <paramref name="entry"/> for <paramref name="address"/>, keeping other addresses' entries. Written to a
    /// temporary file and renamed, readable by the user only: it holds an operator credential.
    /// </summary>
    public static void Write(string path, string address, Entry entry)
    {
        var directory = Path.GetDirectoryName(Path.GetFullPath(path))!;
        Directory.CreateDirectory(directory);
        Document document;
        try { document = File.Exists(path) ? JsonSerializer.Deserialize<Document>(File.ReadAllText(path), Json) ?? new() : new(); }
        catch (JsonException) { document = new(); } // a damaged file is replaced rather than blocking the start
        document.Servers[Normalise(address)] = entry;
        var temp = path + ".tmp";
        File.WriteAllText(temp, JsonSerializer.Serialize(document, Json));
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(temp, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        File.Move(temp, path, overwrite: true);
    }

    /// <summary>Addresses match case-insensitively, without a trailing slash, with localhost read as 127.0.0.1.</summary>
    public static string Normalise(string address) =>
        address.Trim().TrimEnd('/').ToLowerInvariant().Replace("://localhost:", "://127.0.0.1:", StringComparison.Ordinal);

    public sealed class Document
    {
        public Dictionary<string, Entry> Servers { get; set; } = new(StringComparer.Ordinal);
    }

    /// <param name="Token">The bearer token.</param>
    /// <param name="Principal">Who the token names (the <c>sub</c> claim).</param>
    /// <param name="Role">tenant, plant or operator.</param>
    /// <param name="Expires">When the token stops being accepted.</param>
    public sealed record Entry(string Token, string Principal, string Role, DateTimeOffset Expires)
    {
        [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
        public string? Note { get; init; }
    }
}
