namespace Scheduler.Scenarios;

/// <summary>One problem in a scenario file: the YAML field path (e.g. <c>sites[1].battery.capacity_mwh</c>) and why.</summary>
public sealed record ScenarioError(string Field, string Reason)
{
    public override string ToString() => Field.Length == 0 ? Reason : $"{Field}: {Reason}";
}

/// <summary>A scenario could not be loaded. <see cref="Errors"/> names each offending field.</summary>
public sealed class ScenarioLoadException : Exception
{
    public ScenarioLoadException(string source, IReadOnlyList<ScenarioError> errors, Exception? inner = null)
        : base(Format(source, errors), inner)
    {
        Source = source;
        Errors = errors;
    }

    public ScenarioLoadException(string source, string field, string reason, Exception? inner = null)
        : this(source, [new ScenarioError(field, reason)], inner)
    {
    }

    /// <summary>The scenario file (or "inline") the errors are in.</summary>
    public new string Source { get; }

    public IReadOnlyList<ScenarioError> Errors { get; }

    private static string Format(string source, IReadOnlyList<ScenarioError> errors) =>
        errors.Count == 1
            ? $"{source}: {errors[0]}"
            : $"{source}: {errors.Count} errors:{Environment.NewLine}  " + string.Join(Environment.NewLine + "  ", errors);
}
