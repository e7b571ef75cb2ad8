using System.CommandLine;
using Scheduler.Cli;

var parse = Cli.Build().Parse(args);
if (parse.Errors.Count == 0) return await parse.InvokeAsync();

// Usage errors are reported here rather than by System.CommandLine, which exits 1 (read as a gRPC failure) and
// prints the whole help page, burying the one line that says what is wrong.
foreach (var error in parse.Errors) Console.Error.WriteLine($"error: {error.Message}");
var command = parse.CommandResult.Command;
Console.Error.WriteLine($"see: scheduler {(command is RootCommand ? "" : command.Name + " ")}--help");
return Cli.UsageError;
