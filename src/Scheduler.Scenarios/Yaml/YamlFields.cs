namespace Scheduler.Scenarios.Yaml;

using System.Globalization;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

/// <summary>Thrown while reading a scenario; carries the YAML field path so the loader can report it.</summary>
internal sealed class FieldException(string field, string reason, Exception? inner = null) : Exception(reason, inner)
{
    public string Field { get; } = field;
}

/// <summary>
/// A YAML mapping read field by field, remembering its path (<c>sites[1].battery</c>) so every error names the field.
/// Reading goes through the representation model rather than a DTO deserializer because the deserializer reports
/// line numbers, not field paths, and silently ignores misspelt keys; <see cref="RejectUnknown"/> catches those.
/// </summary>
internal sealed class YamlFields
{
    private readonly YamlMappingNode _map;
    private readonly HashSet<string> _read = new(StringComparer.Ordinal);

    private YamlFields(YamlMappingNode map, string path)
    {
        _map = map;
        Path = path;
    }

    public string Path { get; }

    public static YamlFields Parse(string yaml)
    {
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(yaml));
        }
        catch (YamlException e)
        {
            throw new FieldException("", $"not valid YAML at line {e.Start.Line}, column {e.Start.Column}: {e.Message}", e);
        }
        if (stream.Documents.Count == 0 || stream.Documents[0].RootNode is not YamlMappingNode root)
            throw new FieldException("", "the file must be a YAML mapping (key: value lines)");
        return new YamlFields(root, "");
    }

    public string FieldPath(string key) => Path.Length == 0 ? key : Path + "." + key;

    public bool Has(string key) => Find(key) is not null;

    private YamlNode? Find(string key)
    {
        _read.Add(key);
        if (!_map.Children.TryGetValue(new YamlScalarNode(key), out var node)) return null;
        return node is YamlScalarNode { Value: null or "" or "~" or "null", Style: ScalarStyle.Plain } ? null : node;
    }

    private string? Scalar(string key)
    {
        var node = Find(key);
        if (node is null) return null;
        if (node is not YamlScalarNode scalar) throw new FieldException(FieldPath(key), "must be a single value, not a list or mapping");
        return scalar.Value;
    }

    public string RequiredString(string key) =>
        OptionalString(key) ?? throw new FieldException(FieldPath(key), "is required");

    public string? OptionalString(string key)
    {
        var s = Scalar(key);
        return string.IsNullOrWhiteSpace(s) ? null : s.Trim();
    }

    public string String(string key, string defaultValue) => OptionalString(key) ?? defaultValue;

    public double? OptionalDouble(string key)
    {
        var s = Scalar(key);
        if (s is null) return null;
        if (double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) && double.IsFinite(v)) return v;
        throw new FieldException(FieldPath(key), $"'{s}' is not a finite number");
    }

    public double Double(string key, double defaultValue) => OptionalDouble(key) ?? defaultValue;

    public double RequiredDouble(string key) => OptionalDouble(key) ?? throw new FieldException(FieldPath(key), "is required");

    public int? OptionalInt(string key)
    {
        var s = Scalar(key);
        if (s is null) return null;
        if (int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v)) return v;
        throw new FieldException(FieldPath(key), $"'{s}' is not a whole number");
    }

    public int Int(string key, int defaultValue) => OptionalInt(key) ?? defaultValue;

    public long? OptionalLong(string key)
    {
        var s = Scalar(key);
        if (s is null) return null;
        if (long.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v)) return v;
        throw new FieldException(FieldPath(key), $"'{s}' is not a whole number");
    }

    public bool Bool(string key, bool defaultValue)
    {
        var s = Scalar(key);
        if (s is null) return defaultValue;
        return s.Trim().ToLowerInvariant() switch
        {
            "true" or "yes" => true,
            "false" or "no" => false,
            _ => throw new FieldException(FieldPath(key), $"'{s}' is not true or false"),
        };
    }

    /// <summary>A value from a fixed set (case-insensitive); the error lists the allowed values.</summary>
    public string Choice(string key, string? defaultValue, params string[] allowed)
    {
        var s = OptionalString(key) ?? defaultValue ?? throw new FieldException(FieldPath(key), $"is required (one of: {string.Join(", ", allowed)})");
        foreach (var a in allowed)
            if (string.Equals(a, s, StringComparison.OrdinalIgnoreCase)) return a;
        throw new FieldException(FieldPath(key), $"'{s}' is not one of: {string.Join(", ", allowed)}");
    }

    public YamlFields? Child(string key)
    {
        var node = Find(key);
        if (node is null) return null;
        if (node is not YamlMappingNode map) throw new FieldException(FieldPath(key), "must be a mapping (nested key: value lines)");
        return new YamlFields(map, FieldPath(key));
    }

    public YamlFields RequiredChild(string key) => Child(key) ?? throw new FieldException(FieldPath(key), "is required");

    /// <summary>A list of mappings; each item's path is <c>key[i]</c>. Missing means empty.</summary>
    public IReadOnlyList<YamlFields> Items(string key)
    {
        var node = Find(key);
        if (node is null) return [];
        if (node is not YamlSequenceNode seq) throw new FieldException(FieldPath(key), "must be a list (lines starting with '- ')");
        var items = new List<YamlFields>(seq.Children.Count);
        for (var i = 0; i < seq.Children.Count; i++)
        {
            var path = $"{FieldPath(key)}[{i}]";
            if (seq.Children[i] is not YamlMappingNode map) throw new FieldException(path, "must be a mapping (key: value lines)");
            items.Add(new YamlFields(map, path));
        }
        return items;
    }

    /// <summary>A list of scalars. Missing means empty.</summary>
    public IReadOnlyList<string> Strings(string key)
    {
        var node = Find(key);
        if (node is null) return [];
        if (node is YamlScalarNode single) return [single.Value ?? ""];
        if (node is not YamlSequenceNode seq) throw new FieldException(FieldPath(key), "must be a list of values");
        var values = new List<string>(seq.Children.Count);
        for (var i = 0; i < seq.Children.Count; i++)
        {
            if (seq.Children[i] is not YamlScalarNode s || string.IsNullOrWhiteSpace(s.Value))
                throw new FieldException($"{FieldPath(key)}[{i}]", "must be a single, non-empty value");
            values.Add(s.Value.Trim());
        }
        return values;
    }

    /// <summary>A list of number pairs such as <c>[[3, 0], [4, 0.03]]</c>. Missing means empty.</summary>
    public IReadOnlyList<(double A, double B)> Pairs(string key)
    {
        var node = Find(key);
        if (node is null) return [];
        if (node is not YamlSequenceNode seq) throw new FieldException(FieldPath(key), "must be a list of [x, y] pairs");
        var pairs = new List<(double, double)>();
        for (var i = 0; i < seq.Children.Count; i++)
        {
            var path = $"{FieldPath(key)}[{i}]";
            if (seq.Children[i] is not YamlSequenceNode { Children.Count: 2 } pair
                || pair.Children[0] is not YamlScalarNode a || pair.Children[1] is not YamlScalarNode b
                || !double.TryParse(a.Value, NumberStyles.Float, CultureInfo.InvariantCulture, out var x)
                || !double.TryParse(b.Value, NumberStyles.Float, CultureInfo.InvariantCulture, out var y))
                throw new FieldException(path, "must be a pair of numbers [x, y]");
            pairs.Add((x, y));
        }
        return pairs;
    }

    /// <summary>A mapping of scalar keys to numbers, e.g. <c>{1: 0.4, 8: 0.2}</c>, in file order.</summary>
    public IReadOnlyList<(string Key, double Value)> NumberTable(string key)
    {
        var child = Child(key);
        if (child is null) return [];
        var entries = new List<(string, double)>();
        foreach (var (k, v) in child._map.Children)
        {
            var name = (k as YamlScalarNode)?.Value ?? "";
            child._read.Add(name);
            if (v is not YamlScalarNode s || !double.TryParse(s.Value, NumberStyles.Float, CultureInfo.InvariantCulture, out var x) || !double.IsFinite(x))
                throw new FieldException(child.FieldPath(name), "must be a finite number");
            entries.Add((name, x));
        }
        return entries;
    }

    /// <summary>Fails on the first key that no reader asked for: a misspelt key must not be silently ignored.</summary>
    public void RejectUnknown()
    {
        foreach (var key in _map.Children.Keys)
        {
            var name = (key as YamlScalarNode)?.Value ?? key.ToString();
            if (!_read.Contains(name)) throw new FieldException(FieldPath(name), "unknown field (check the spelling; see docs/scenarios.md)");
        }
    }
}
