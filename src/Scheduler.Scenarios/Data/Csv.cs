namespace Scheduler.Scenarios.Data;

using System.Globalization;

/// <summary>
/// The one CSV helper: splits a line on commas (double quotes group a field, <c>""</c> escapes a quote) and parses
/// invariant-culture numbers. The data files here are plain comma-separated text, so this is all they need.
/// </summary>
public static class Csv
{
    public static string[] Split(string line)
    {
        if (line.IndexOf('"') < 0) return line.Split(',');
        var fields = new List<string>();
        var field = new System.Text.StringBuilder();
        var quoted = false;
        for (var i = 0; i < line.Length; i++)
        {
            var c = line[i];
            if (quoted)
            {
                if (c == '"' && i + 1 < line.Length && line[i + 1] == '"') { field.Append('"'); i++; }
                else if (c == '"') quoted = false;
                else field.Append(c);
            }
            else if (c == '"') quoted = true;
            else if (c == ',') { fields.Add(field.ToString()); field.Clear(); }
            else field.Append(c);
        }
        fields.Add(field.ToString());
        return [.. fields];
    }

    /// <summary>Index of the first header cell that, trimmed, starts with <paramref name="prefix"/> (ordinal, ignoring case); -1 if none.</summary>
    public static int FindColumn(IReadOnlyList<string> header, string prefix)
    {
        for (var i = 0; i < header.Count; i++)
            if (header[i].Trim().StartsWith(prefix, StringComparison.OrdinalIgnoreCase)) return i;
        return -1;
    }

    public static int RequireColumn(IReadOnlyList<string> header, string prefix, string file)
    {
        var i = FindColumn(header, prefix);
        if (i < 0) throw new FormatException($"{Path.GetFileName(file)}: no column starting with '{prefix}'");
        return i;
    }

    public static double ParseDouble(string cell, string file, int lineNumber)
    {
        if (double.TryParse(cell, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) && double.IsFinite(value))
            return value;
        throw new FormatException($"{Path.GetFileName(file)} line {lineNumber}: '{cell}' is not a finite number");
    }

    public static int ParseInt(string cell, string file, int lineNumber)
    {
        if (int.TryParse(cell, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value)) return value;
        throw new FormatException($"{Path.GetFileName(file)} line {lineNumber}: '{cell}' is not an integer");
    }

    private static readonly string[] ClockFormats =
        ["yyyy-MM-dd HH:mm:ss", "yyyy-MM-dd HH:mm:ss.FFFFFFF", "yyyy-MM-dd HH:mm", "yyyy-MM-ddTHH:mm:ss", "yyyy-MM-ddTHH:mm:ss.FFFFFFF", "yyyy-MM-ddTHH:mm", "yyyy/M/d H:mm", "yyyy/M/d H:mm:ss"];

    /// <summary>Parses <c>yyyy-MM-dd HH:mm[:ss[.fffffff]]</c> (a <c>T</c> separator is accepted too) as an unspecified-kind clock time.</summary>
    public static DateTime ParseClockTime(string cell, string file, int lineNumber)
    {
        if (TryParseIsoClock(cell, out var fast)) return fast;
        if (DateTime.TryParseExact(cell.Trim(), ClockFormats, CultureInfo.InvariantCulture, DateTimeStyles.None, out var t)) return t;
        throw new FormatException($"{Path.GetFileName(file)} line {lineNumber}: '{cell}' is not a date and time (yyyy-MM-dd HH:mm:ss)");
    }

    // The common shape, parsed by hand: TryParseExact with a format list dominated the load time of the 19,366-row Azure trace.
    private static bool TryParseIsoClock(string s, out DateTime value)
    {
        value = default;
        if (s.Length < 19 || s[4] != '-' || s[7] != '-' || (s[10] != ' ' && s[10] != 'T') || s[13] != ':' || s[16] != ':') return false;
        if (!Digits(s, 0, 4, out var year) || !Digits(s, 5, 2, out var month) || !Digits(s, 8, 2, out var day)
            || !Digits(s, 11, 2, out var hour) || !Digits(s, 14, 2, out var minute) || !Digits(s, 17, 2, out var second)) return false;
        long fractionTicks = 0;
        if (s.Length > 19)
        {
            if (s[19] != '.' || s.Length == 20 || s.Length > 27 || !Digits(s, 20, s.Length - 20, out var fraction)) return false;
            fractionTicks = fraction;
            for (var i = s.Length - 20; i < 7; i++) fractionTicks *= 10;
        }
        if (month is < 1 or > 12 || day < 1 || day > DateTime.DaysInMonth(Math.Clamp(year, 1, 9999), month) || hour > 23 || minute > 59 || second > 59) return false;
        value = new DateTime(year, month, day, hour, minute, second).AddTicks(fractionTicks);
        return true;
    }

    private static bool Digits(string s, int start, int count, out int value)
    {
        value = 0;
        for (var i = start; i < start + count; i++)
        {
            var d = s[i] - '0';
            if (d is < 0 or > 9) return false;
            value = value * 10 + d;
        }
        return true;
    }
}
