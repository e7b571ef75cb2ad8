namespace Scheduler.Cli.Commands;

using System.CommandLine;
using Scheduler.LoadTest;

/// <summary>
/// <c>bench [--quick] [--json FILE] [load-tool options]</c>: the load tool (tests/Scheduler.LoadTest) against an
/// in-process host over loopback gRPC, with the grpc-dotnet and Orleans ceilings measured in the same run. Options other
/// than those declared here go to the tool as they are (<c>bench --help</c> lists them).
/// </summary>
internal static class BenchCommand
{
    public static void AddTo(RootCommand root)
    {
        var quick = new Option<bool>("--quick") { Description = "A small run for a first look (100 plants, 5 s per scenario, 1 round)" };
        var json = new Option<FileInfo?>("--json") { Description = "Also write the results as JSON to this file" };
        var command = new Command("bench",
            "Measure the scheduler under load (telemetry ingest, job creation, decision latency, memory) against the grpc-dotnet and Orleans ceilings; "
            + "see docs/performance.md")
        {
            quick, json,
        };
        // The tool parses its own options (--rounds, --tracing, --sample-ratio, …); see LoadOptions.Usage.
        command.TreatUnmatchedTokensAsErrors = false;
        command.SetAction(async (parse, cancel) =>
        {
            List<string> args = [.. parse.UnmatchedTokens];
            if (parse.GetValue(quick)) args.Add("--quick");
            if (parse.GetValue(json) is { } file) args.AddRange(["--json", file.FullName]);
            return await LoadTool.RunAsync(args, cancel);
        });
        root.Add(command);
    }
}
