namespace Scheduler.Cli.Commands;

using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Grpc.Net.Client;
using Scheduler.Replay;
using Scheduler.Replay.Driver;
using Scheduler.Replay.Optimum;
using Scheduler.Replay.Reports;
using Scheduler.Scenarios;
using Spectre.Console;

/// <summary>
/// <c>replay SCENARIO</c>: runs a scenario through the real system under our policy and the baselines, solves the
/// offline optimum, and prints (and writes) the scoreboard.
/// </summary>
internal static class ReplayCommand
{
    public static void AddTo(RootCommand root)
    {
        var scenario = new Argument<string>("scenario")
        {
            Description = $"A shipped scenario ({string.Join(", ", ScenarioCatalog.Names)}) or the path of a scenario file",
        };
        var from = new Option<DateTimeOffset?>("--from") { Description = "Replay from this time (ISO 8601; default: the scenario's start)" };
        var to = new Option<DateTimeOffset?>("--to") { Description = "Replay up to this time (ISO 8601; default: the scenario's end)" };
        var json = new Option<FileInfo?>("--json") { Description = "Write the scoreboard as JSON to this file" };
        var html = new Option<FileInfo?>("--html") { Description = "Write the HTML report with plots to this file" };
        var policies = new Option<string[]>("--policies")
        {
            Description = "Policies to replay (the optimum is always solved)",
            DefaultValueFactory = _ => [Policies.Scheduler, Policies.Greedy, Policies.Agnostic],
            AllowMultipleArgumentsPerToken = true,
        };
        policies.AcceptOnlyFromAmong(Policies.Scheduler, Policies.Greedy, Policies.Agnostic);

        var command = new Command("replay",
            "Replay a scenario through the scheduler (in-process, or the replay-mode host at --address) against the baselines and the offline optimum")
        {
            scenario, from, to, json, html, policies,
        };
        command.SetAction(async (parse, cancel) =>
        {
            var address = parse.GetResult(Cli.Address) is { Implicit: false } ? parse.GetValue(Cli.Address) : null;
            try
            {
                return await RunAsync(parse.GetValue(scenario)!, parse.GetValue(from), parse.GetValue(to), parse.GetValue(json), parse.GetValue(html),
                    parse.GetValue(policies)!, address, address is null ? null : Cli.ResolveToken(parse, address), cancel);
            }
            catch (ScenarioLoadException ex)
            {
                Console.Error.WriteLine($"error: {ex.Message}");
                return Cli.UsageError;
            }
            catch (Grpc.Core.RpcException ex) when (!cancel.IsCancellationRequested)
            {
                Output.PrintError(ex, address ?? "the in-process host");
                return Cli.RpcError;
            }
            catch (OperationCanceledException) when (cancel.IsCancellationRequested)
            {
                return Cli.Interrupted;
            }
        });
        root.Add(command);
    }

    private static async Task<int> RunAsync(string name, DateTimeOffset? from, DateTimeOffset? to, FileInfo? json, FileInfo? html,
        string[] policies, string? address, string? token, CancellationToken cancel)
    {
        var clock = Stopwatch.StartNew();
        var full = ScenarioCatalog.Load(name);
        var scenario = full.Slice(from ?? full.Start, to ?? full.End);
        if (scenario.Steps == 0)
        {
            Console.Error.WriteLine($"error: --from/--to: no step of '{full.Name}' ({full.Start:O} to {full.End:O}) falls in the range");
            return Cli.UsageError;
        }
        Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{scenario.Name}: {scenario.Steps} steps of {scenario.Step.TotalMinutes:0} min from {scenario.Start:u}, {scenario.Sites.Count} sites, {scenario.Plants.Count} plants, {scenario.Jobs.Count} jobs; policies {string.Join(", ", policies)}"));

        // The optimum needs no system: solve it alongside the replay.
        var optimum = Task.Run(() => OfflineOptimum.Solve(scenario), cancel);

        await using var host = address is null ? await ReplayHost.StartAsync(cancel) : null;
        using var remote = address is null ? null : Scheduler.Api.Client.SchedulerChannel.Create(address, token);
        var driver = new ReplayDriver(host?.Channel ?? remote!);
        IReadOnlyList<PolicyOutcome> outcomes = [];
        await AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) }).Progress()
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn())
            .StartAsync(async progress =>
            {
                var bar = progress.AddTask("replay", maxValue: scenario.Steps + 1);
                outcomes = await driver.RunAsync(scenario, policies, new SyncProgress(p =>
                {
                    bar.Value = p.Step + 1;
                    bar.Description = string.Create(CultureInfo.InvariantCulture, $"replay {scenario.TimeAt(Math.Min(p.Step, scenario.Steps - 1)):yyyy-MM-dd HH:mm}, {p.ActiveJobs} active jobs");
                }), cancel);
            });
        var results = outcomes.Select(o => o.Result).Append(await optimum).ToList();
        var report = ReplayScoring.CreateReport(scenario.Name, scenario.Start, scenario.End, scenario.Step, scenario.Jobs.Count, results,
            clock.Elapsed.TotalSeconds);
        Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"replayed in {clock.Elapsed.TotalSeconds:0.0} s ({driver.Timings})"));

        ReportTable.Write(report);
        if (json is not null)
        {
            ReportJson.Write(report, json.FullName);
            Console.Error.WriteLine($"wrote {json}"); // as given: a relative path stays relative in logs that are committed
        }
        if (html is not null)
        {
            HtmlReport.Write(report, html.FullName);
            Console.Error.WriteLine($"wrote {html}");
        }
        return Cli.Ok;
    }

    /// <summary>Reports on the caller's thread: Progress&lt;T&gt; would post to the thread pool and could run after the bar is gone.</summary>
    private sealed class SyncProgress(Action<ReplayProgress> report) : IProgress<ReplayProgress>
    {
        public void Report(ReplayProgress value) => report(value);
    }
}
