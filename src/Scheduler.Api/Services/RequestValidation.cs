namespace Scheduler.Api.Services;

using System.Runtime.CompilerServices;
using System.Text.RegularExpressions;
using Google.Rpc;
using Grpc.Core;
using Scheduler.Core.Telemetry;

/// <summary>
/// Collects every bad field of a request and fails it once, as INVALID_ARGUMENT with a google.rpc.BadRequest
/// listing each field and why. Nothing is changed by a rejected request: validation runs before any grain call.
/// </summary>
internal sealed partial class RequestValidation
{
    // Made on the first violation: nearly every request (and every telemetry sample) has none.
    private List<BadRequest.Types.FieldViolation>? _violations;

    public bool IsValid => _violations is null;

    /// <summary>The first violation, or null: a stream's sample reports one field.</summary>
    public BadRequest.Types.FieldViolation? First => _violations?[0];

    public RequestValidation Add(string field, string description)
    {
        (_violations ??= []).Add(new BadRequest.Types.FieldViolation { Field = field, Description = description });
        return this;
    }

    public RequestValidation Check(bool ok, string field, string description) => ok ? this : Add(field, description);

    /// <summary>As above; an interpolated description is formatted only if the check failed.</summary>
    public RequestValidation Check(bool ok, string field, [InterpolatedStringHandlerArgument("ok")] ref FailureDescription description) =>
        ok ? this : Add(field, description.ToStringAndClear());

    /// <summary>An id: 1-128 characters of letters, digits, '.', '_' and '-'.</summary>
    public RequestValidation Id(string value, string field, bool required = true)
    {
        if (value.Length == 0) return required ? Add(field, "required") : this;
        return Check(value.Length <= 128 && IdPattern().IsMatch(value), field, "1-128 characters of letters, digits, '.', '_' and '-'");
    }

    /// <summary>A timestamp protobuf can turn into a time: seconds within years 1-9999, nanos within [0, 1e9).</summary>
    public RequestValidation Time(Google.Protobuf.WellKnownTypes.Timestamp? value, string field, bool required = true)
    {
        if (value is null) return required ? Add(field, "required") : this;
        return Check(IsTime(value), field, "not a valid timestamp (years 1-9999, nanos within [0, 999999999])");
    }

    public static bool IsTime(Google.Protobuf.WellKnownTypes.Timestamp value) =>
        value.Seconds is >= MinTimestampSeconds and <= MaxTimestampSeconds && value.Nanos is >= 0 and < 1_000_000_000;

    public static bool IsId(string value) => value.Length is > 0 and <= 128 && IdPattern().IsMatch(value);

    private const long MinTimestampSeconds = -62_135_596_800, MaxTimestampSeconds = 253_402_300_799;

    public RequestValidation Finite(double value, string field, double min, double max = double.MaxValue)
    {
        var ok = double.IsFinite(value) && value >= min && value <= max;
        return max == double.MaxValue
            ? Check(ok, field, $"must be a finite number >= {min}, was {value}")
            : Check(ok, field, $"must be within [{min}, {max}], was {value}");
    }

    /// <summary>Adds core-level errors of the form "field: description".</summary>
    public RequestValidation AddCore(IEnumerable<string> errors, string prefix = "")
    {
        foreach (var e in errors)
        {
            var colon = e.IndexOf(':');
            Add(prefix + (colon > 0 ? e[..colon] : ""), colon > 0 ? e[(colon + 1)..].Trim() : e);
        }
        return this;
    }

    public RequestValidation Add(FieldViolation violation, string prefix = "") => Add(prefix + violation.Field, violation.Description);

    /// <summary>
    /// At most this many violations are listed, each field and description cut to <see cref="MaxListedChars"/>: the
    /// status travels in response headers twice (grpc-message, grpc-status-details-bin), and a request with hundreds of
    /// bad arguments would otherwise overflow a client's 64 KiB header limit, which turns a clean INVALID_ARGUMENT into
    /// UNAVAILABLE on the client's side.
    /// </summary>
    public const int MaxListedViolations = 20, MaxListedChars = 256;

    /// <summary>Throws INVALID_ARGUMENT with the collected violations (the first <see cref="MaxListedViolations"/>), if any.</summary>
    public void ThrowIfInvalid()
    {
        if (_violations is null) return;
        var listed = _violations.Take(MaxListedViolations)
            .Select(v => new BadRequest.Types.FieldViolation { Field = Truncate(v.Field, MaxListedChars), Description = Truncate(v.Description, MaxListedChars) })
            .ToList();
        if (_violations.Count > MaxListedViolations)
            listed.Add(new BadRequest.Types.FieldViolation { Description = $"and {_violations.Count - MaxListedViolations} more violations, not listed" });
        var badRequest = new BadRequest();
        badRequest.FieldViolations.AddRange(listed);
        var message = string.Join("; ", listed.Select(v => v.Field.Length > 0 ? $"{v.Field}: {v.Description}" : v.Description));
        throw new Google.Rpc.Status
        {
            Code = (int)Code.InvalidArgument,
            Message = message,
            Details = { Google.Protobuf.WellKnownTypes.Any.Pack(badRequest) },
        }.ToRpcException();
    }

    // Bounds on a workload: generous for real command lines, small enough that a job record stays a few KB to tens.
    public const int MaxCommandLength = 1024, MaxArguments = 256, MaxArgumentLength = 4096, MaxEnvironment = 128,
        MaxEnvironmentNameLength = 128, MaxEnvironmentValueLength = 4096, MaxWorkloadChars = 64 * 1024;

    /// <summary>
    /// A workload (optional): a command without control characters, bounded arguments and environment (no NUL, which
    /// no process can receive), environment names of [A-Za-z_][A-Za-z0-9_]*, none of the agent's own SCHEDULER_*.
    /// </summary>
    public RequestValidation Workload(Scheduler.Api.V1.Workload? workload, string field)
    {
        if (workload is null) return this;
        Check(workload.Command.Length is > 0 and <= MaxCommandLength, field + ".command", $"1-{MaxCommandLength} characters, was {workload.Command.Length}");
        Check(!workload.Command.Any(char.IsControl), field + ".command", "must not contain control characters");
        Check(workload.Args.Count <= MaxArguments, field + ".args", $"at most {MaxArguments} arguments, was {workload.Args.Count}");
        for (var i = 0; i < Math.Min(workload.Args.Count, MaxArguments); i++)
        {
            var arg = workload.Args[i];
            if (arg.Length > MaxArgumentLength) Add($"{field}.args[{i}]", $"at most {MaxArgumentLength} characters, was {arg.Length}");
            else if (arg.Contains('\0')) Add($"{field}.args[{i}]", "must not contain NUL");
        }
        Check(workload.Env.Count <= MaxEnvironment, field + ".env", $"at most {MaxEnvironment} variables, was {workload.Env.Count}");
        foreach (var (name, value) in workload.Env.OrderBy(e => e.Key, StringComparer.Ordinal).Take(MaxEnvironment))
        {
            if (name.Length > MaxEnvironmentNameLength || !EnvironmentNamePattern().IsMatch(name))
                Add($"{field}.env[{Truncate(name)}]", $"a name of [A-Za-z_][A-Za-z0-9_]*, at most {MaxEnvironmentNameLength} characters");
            else if (name.StartsWith(Core.Execution.WorkloadSpec.ReservedEnvironmentPrefix, StringComparison.Ordinal))
                Add($"{field}.env[{name}]", $"names starting with {Core.Execution.WorkloadSpec.ReservedEnvironmentPrefix} are set by the agent");
            if (value.Length > MaxEnvironmentValueLength) Add($"{field}.env[{Truncate(name)}]", $"a value of at most {MaxEnvironmentValueLength} characters, was {value.Length}");
            else if (value.Contains('\0')) Add($"{field}.env[{Truncate(name)}]", "a value must not contain NUL");
        }
        var total = workload.Command.Length + workload.Args.Sum(a => (long)a.Length) + workload.Env.Sum(e => (long)e.Key.Length + e.Value.Length);
        return Check(total <= MaxWorkloadChars, field, $"command, arguments and environment together at most {MaxWorkloadChars} characters, were {total}");
    }

    private static string Truncate(string s, int max = 32) => s.Length <= max ? s : s[..max] + "…";

    [GeneratedRegex("^[A-Za-z0-9._-]+$")]
    private static partial Regex IdPattern();

    [GeneratedRegex("^[A-Za-z_][A-Za-z0-9_]*$")]
    private static partial Regex EnvironmentNamePattern();
}

/// <summary>
/// The description of a check, formatted only if the check failed: nearly every request is valid, and formatting a
/// description with its numbers for every field of every request (every telemetry sample, too) is work thrown away.
/// </summary>
[InterpolatedStringHandler]
internal ref struct FailureDescription
{
    private DefaultInterpolatedStringHandler _text;

    public FailureDescription(int literalLength, int formattedCount, bool ok, out bool format)
    {
        format = !ok;
        _text = ok ? default : new DefaultInterpolatedStringHandler(literalLength, formattedCount);
    }

    public void AppendLiteral(string value) => _text.AppendLiteral(value);

    public void AppendFormatted<T>(T value) => _text.AppendFormatted(value);

    public void AppendFormatted<T>(T value, string? format) => _text.AppendFormatted(value, format);

    public string ToStringAndClear() => _text.ToStringAndClear();
}
