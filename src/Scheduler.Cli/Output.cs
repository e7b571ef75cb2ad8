namespace Scheduler.Cli;

using System.Globalization;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Google.Rpc;
using Grpc.Core;
using Scheduler.Api.V1;
using Spectre.Console;
using Spectre.Console.Rendering;

/// <summary>Tables, JSON and error messages: everything the CLI writes goes through here.</summary>
internal static partial class Output
{
    /// <summary>Default values are printed so scripts see every field, not only the non-zero ones.</summary>
    private static readonly JsonFormatter Indented = new(JsonFormatter.Settings.Default.WithFormatDefaultValues(true).WithIndentation());
    private static readonly JsonFormatter Compact = new(JsonFormatter.Settings.Default.WithFormatDefaultValues(true));

    /// <summary>
    /// Spectre assumes 80 columns when stdout is not a terminal, which wraps the wide fleet table into
    /// unreadable cells in a pipe or a log; there, lines are as long as the table needs.
    /// </summary>
    public static IAnsiConsole Terminal { get; } = CreateTerminal();

    private static IAnsiConsole CreateTerminal()
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings());
        if (Console.IsOutputRedirected) console.Profile.Width = 400;
        return console;
    }

    public static void Json(IMessage message) => Console.WriteLine(Indented.Format(message));

    /// <summary>One message per line (NDJSON), for streams that a script reads as they come.</summary>
    public static void JsonLine(IMessage message) => Console.WriteLine(Compact.Format(message));

    public static string JsonText(IMessage message) => Compact.Format(message);

    /// <summary>A table whose columns are named; a leading '&gt;' right-aligns a (numeric) column.</summary>
    public static Table Table(params string[] columns)
    {
        var table = new Table().Border(TableBorder.Rounded);
        foreach (var c in columns)
            table.AddColumn(new TableColumn(c.TrimStart('>')) { Alignment = c.StartsWith('>') ? Justify.Right : Justify.Left });
        return table;
    }

    /// <summary>Cells are plain text: reasons and details come from the server and may contain '[' or ']'.</summary>
    public static Table Row(this Table table, params string[] cells)
    {
        table.AddRow(cells.Select(c => (IRenderable)new Text(c)));
        return table;
    }

    public static Grid Fields(IEnumerable<(string Name, string Value)> fields)
    {
        var grid = new Grid().AddColumn(new GridColumn().NoWrap().PadRight(2)).AddColumn();
        foreach (var (name, value) in fields) grid.AddRow(new Text(name, new Style(decoration: Decoration.Bold)), new Text(value));
        return grid;
    }

    public static string Num(double value, int decimals = 1) => value.ToString("#,0." + new string('0', decimals), CultureInfo.InvariantCulture);

    public static string Signed(double value) => (value > 0 ? "+" : "") + Num(value);

    public static string Percent(double fraction) => Num(fraction * 100) + " %";

    /// <summary>Scheduler time, in UTC: in the demo it runs ahead of the wall clock.</summary>
    public static string Time(Timestamp? time) => time is null ? "-" : time.ToDateTimeOffset().ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    public static string State(JobState state) => state.ToString().ToLowerInvariant();

    public static string OrDash(string value) => value.Length == 0 ? "-" : value;

    /// <summary>The one-line description of a job used after submit and cancel.</summary>
    public static string Summary(Job job)
    {
        var spec = job.Spec;
        var traits = string.Join(",", new[] { spec.Interruptible ? "interruptible" : null, spec.Relocatable ? "relocatable" : null }.OfType<string>());
        return $"{State(job.State)}  tenant={spec.Tenant}  gpus={spec.Gpus}  work={Num(spec.WorkGpuHours)} GPU-h  remaining={Num(job.RemainingGpuHours)} GPU-h"
            + $"  region={OrDash(job.Region)}  site={OrDash(job.Site)}  deadline={Time(spec.Deadline)}" + (traits.Length > 0 ? "  " + traits : "");
    }

    /// <summary>
    /// "error: CODE: detail", then one "  field: description" line per google.rpc.BadRequest violation, so every bad
    /// field of a rejected request shows at once. A refused connection is not a server answer and says what to do.
    /// </summary>
    public static void PrintError(RpcException ex, string address)
    {
        if (ex.StatusCode == StatusCode.Unavailable && IsUnreachable(ex.Status.DebugException))
        {
            Console.Error.WriteLine($"error: cannot reach the scheduler at {address} (is it running? start it with: dotnet run --project src/Scheduler.Host)");
            return;
        }
        Console.Error.WriteLine($"error: {CodeName(ex.StatusCode)}: {ex.Status.Detail}");
        if (ex.StatusCode == StatusCode.Unauthenticated)
            Console.Error.WriteLine("  pass --token TOKEN or set SCHEDULER_TOKEN; a development host writes an operator token to ~/.config/green-scheduler/credentials.json on start");
        if (ex.GetRpcStatus()?.GetDetail<BadRequest>() is { } badRequest)
            // A violation without a field is the server's count of those it did not list.
            foreach (var v in badRequest.FieldViolations) Console.Error.WriteLine(v.Field.Length > 0 ? $"  {v.Field}: {v.Description}" : $"  {v.Description}");
    }

    private static bool IsUnreachable(Exception? ex)
    {
        for (; ex is not null; ex = ex.InnerException)
            if (ex is SocketException { SocketErrorCode: SocketError.ConnectionRefused or SocketError.HostNotFound or SocketError.HostUnreachable or SocketError.NetworkUnreachable or SocketError.TimedOut })
                return true;
        return false;
    }

    /// <summary>The canonical name (INVALID_ARGUMENT), as in the gRPC docs and other clients, not the C# enum's.</summary>
    private static string CodeName(StatusCode code) => UpperSnake().Replace(code.ToString(), "$1_$2").ToUpperInvariant();

    [GeneratedRegex("([a-z])([A-Z])")]
    private static partial Regex UpperSnake();
}
