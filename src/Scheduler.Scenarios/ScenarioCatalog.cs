namespace Scheduler.Scenarios;

/// <summary>
/// The shipped scenarios, by name, and the way a name or a path becomes a scenario file. Shipped files live in
/// <c>scenarios/</c> next to this assembly (copied to every referencing project's output), their data in <c>data/</c>.
/// </summary>
public static class ScenarioCatalog
{
    public const string InnerMongolia = "inner-mongolia";
    public const string GreatPlains = "great-plains";
    public const string WinterStress = "winter-stress";

    /// <summary>The shipped scenario names.</summary>
    public static IReadOnlyList<string> Names { get; } = [InnerMongolia, GreatPlains, WinterStress];

    /// <summary>Folder of the shipped scenario files.</summary>
    public static string ScenarioDirectory => Path.Combine(AppContext.BaseDirectory, "scenarios");

    /// <summary>
    /// Full path of a scenario: an existing file path wins; otherwise a name (with or without <c>.yaml</c>) found in
    /// <see cref="ScenarioDirectory"/>. Throws <see cref="ScenarioLoadException"/> listing the shipped names when neither matches.
    /// </summary>
    public static string Resolve(string pathOrName)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(pathOrName);
        if (File.Exists(pathOrName)) return Path.GetFullPath(pathOrName);
        var name = pathOrName.EndsWith(".yaml", StringComparison.OrdinalIgnoreCase) ? pathOrName[..^5] : pathOrName;
        var shipped = Path.Combine(ScenarioDirectory, name + ".yaml");
        if (name.IndexOfAny(['/', '\\']) < 0 && File.Exists(shipped)) return shipped;
        throw new ScenarioLoadException(pathOrName, "",
            $"no such scenario file, and not a shipped scenario name (shipped: {string.Join(", ", Names)}; looked in {ScenarioDirectory})");
    }

    /// <summary>Loads a shipped scenario by name, or a scenario file by path.</summary>
    public static LoadedScenario Load(string pathOrName, ScenarioLoadOptions? options = null) => ScenarioLoader.Load(pathOrName, options);
}
