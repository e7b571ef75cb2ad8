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
    private readonly List<BadRequest.Types.FieldViolation> _violations = [];

    public bool IsValid => _violations.Count == 0;

    /// <summary>The first violation, or null: a stream's sample reports one field.</summary>
    public BadRequest.Types.FieldViolation? First => _violations.Count > 0 ? _violations[0] : null;

    public RequestValidation Add(string field, string description)
    {
        _violations.Add(new BadRequest.Types.FieldViolation { Field = field, Description = description });
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

    /// <summary>Throws INVALID_ARGUMENT with the collected violations, if any.</summary>
    public void ThrowIfInvalid()
    {
        if (IsValid) return;
        var badRequest = new BadRequest();
        badRequest.FieldViolations.AddRange(_violations);
        var message = string.Join("; ", _violations.Select(v => $"{v.Field}: {v.Description}"));
        throw new Google.Rpc.Status
        {
            Code = (int)Code.InvalidArgument,
            Message = message,
            Details = { Google.Protobuf.WellKnownTypes.Any.Pack(badRequest) },
        }.ToRpcException();
    }

    [GeneratedRegex("^[A-Za-z0-9._-]+$")]
    private static partial Regex IdPattern();
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
