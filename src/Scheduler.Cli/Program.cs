using System.CommandLine.Invocation;
using Scheduler.Cli;

var parse = Cli.Build().Parse(args);
var code = await parse.InvokeAsync();
// System.CommandLine reports a parse error as 1, which would read as a gRPC failure; usage errors are 2.
return parse.Action is ParseErrorAction ? Cli.UsageError : code;
