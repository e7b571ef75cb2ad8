namespace Scheduler.Replay.Tests;

using System.Text.Json;
using System.Text.RegularExpressions;
using Scheduler.Replay.Optimum;
using Scheduler.Replay.Reports;
using Spectre.Console;
using static OptimumBuilders;

/// <summary>The scoreboard reports: the two ratios, the JSON contract, the terminal table and the HTML page.</summary>
public partial class ReportTests
{
    private static Scoreboard Board(double greenUsedMWh, int completed = 3) =>
        new(100, greenUsedMWh, greenUsedMWh / 120, 100 - greenUsedMWh, 20, 0, 5, 0, completed, 2, 40, 0.004, 1234, 16000, 9.5);

    /// <summary>A policy result with made-up series at the given sites, and stints that cycle jobs through the sites.</summary>
    private static PolicyResult Result(string policy, double greenUsedMWh, string[] sites, int steps, int jobs = 6)
    {
        var random = new Random(policy.Length * 31 + steps);
        double[] Series(double scale) => [.. Enumerable.Range(0, steps).Select(_ => scale * random.NextDouble())];
        var series = sites.Select(id => new SiteSeries(id, Series(300), Series(200), Series(60), Series(1), Series(50), Series(80), new double[steps])).ToList();
        var stints = policy == Policies.Optimum ? [] : Enumerable.Range(0, jobs).Select(j =>
        {
            var from = j * steps / (2 * jobs);
            return new JobStint($"job-{j:D5}", sites[j % sites.Length], from, Math.Min(steps, from + Math.Max(1, steps / 10)));
        }).ToList();
        return new PolicyResult(policy, Board(greenUsedMWh), series, stints);
    }

    private static ReplayReport Report(string[] sites, int steps = 48, int jobs = 6) => ReplayScoring.CreateReport("hand-made", T0, T0.AddHours(steps), TimeSpan.FromHours(1), jobs,
        [Result(Policies.Scheduler, 80, sites, steps, jobs), Result(Policies.Agnostic, 60, sites, steps, jobs), Result(Policies.Greedy, 70, sites, steps, jobs),
         Result(Policies.Optimum, 90, sites, steps, jobs)], elapsedSeconds: 3.5);

    [Theory]
    [InlineData(80, 100, 0.8)]
    [InlineData(0, 100, 0)]
    [InlineData(100, 100, 1)]
    [InlineData(0, 0, 1)] // nothing green to use: nothing left on the table
    public void RatioToOptimum_IsOursOverOptimum_AndOneWhenTheOptimumUsedNothing(double ours, double optimum, double expected) =>
        Assert.Equal(expected, ReplayScoring.RatioToOptimum(ours, optimum), 12);

    [Theory]
    [InlineData(80, 60, 90, 2.0 / 3)]
    [InlineData(60, 60, 90, 0)]
    [InlineData(90, 60, 90, 1)]
    [InlineData(50, 60, 90, -1.0 / 3)] // worse than the baseline
    [InlineData(70, 70, 70, 1)] // nothing to capture, and we lost nothing
    [InlineData(60, 70, 70, 0)] // nothing to capture, and we fell below the baseline
    [InlineData(0, 0, 0, 1)]
    public void CapturedGain_IsTheShareOfTheGapClosed_WithZeroDenominatorsDefined(double ours, double agnostic, double optimum, double expected)
    {
        var gain = ReplayScoring.CapturedGain(ours, agnostic, optimum);

        Assert.Equal(expected, gain, 12);
        Assert.True(double.IsFinite(gain));
    }

    [Fact]
    public void CreateReport_ComputesBothRatios_FromThePolicies()
    {
        var report = Report(["a"]);

        Assert.Equal(80.0 / 90, report.RatioToOptimum, 12);
        Assert.Equal((80.0 - 60) / (90 - 60), report.CapturedGain, 12);
        Assert.Equal(4, report.Policies.Count);
    }

    [Fact]
    public void CreateReport_GivesZeroRatios_WhenTheOptimumIsMissing_AndRejectsDuplicates()
    {
        var report = ReplayScoring.CreateReport("x", T0, T0.AddHours(1), TimeSpan.FromHours(1), 0, [Result(Policies.Scheduler, 5, ["a"], 1)], 0);

        Assert.Equal(0, report.RatioToOptimum);
        Assert.Equal(0, report.CapturedGain);
        Assert.Throws<ArgumentException>(() => ReplayScoring.CreateReport("x", T0, T0, TimeSpan.FromHours(1), 0,
            [Result(Policies.Scheduler, 5, ["a"], 1), Result(Policies.Scheduler, 6, ["a"], 1)], 0));
    }

    private static readonly string[] ScoreboardKeys =
    [
        "greenAvailableMWh", "greenUsedMWh", "greenShare", "curtailedMWh", "gridImportMWh", "exportMWh", "batteryThroughputMWh",
        "deadlineMisses", "completedJobs", "relocations", "relocatedGB", "relocationMWh", "costCny", "co2Kg", "tokensPerKwh",
    ];

    [Fact]
    public void ReportJson_HasExactlyTheDocumentedKeys()
    {
        using var json = JsonDocument.Parse(ReportJson.Serialize(Report(["a", "b"])));
        var root = json.RootElement;

        Assert.Equal(["scenario", "from", "to", "step", "jobs", "policies", "ratioToOptimum", "capturedGain", "elapsedSeconds"],
            root.EnumerateObject().Select(p => p.Name));
        Assert.Equal(["scheduler", "greedy", "agnostic", "optimum"], root.GetProperty("policies").EnumerateObject().Select(p => p.Name));
        foreach (var policy in root.GetProperty("policies").EnumerateObject())
            Assert.Equal(ScoreboardKeys, policy.Value.EnumerateObject().Select(p => p.Name));
        Assert.Equal(80, root.GetProperty("policies").GetProperty("scheduler").GetProperty("greenUsedMWh").GetDouble());
        Assert.Equal(0, root.GetProperty("policies").GetProperty("optimum").GetProperty("exportMWh").GetDouble());
        Assert.Equal(80.0 / 90, root.GetProperty("ratioToOptimum").GetDouble(), 12);
        Assert.Equal("hand-made", root.GetProperty("scenario").GetString());
        Assert.Equal("01:00:00", root.GetProperty("step").GetString());
        Assert.Equal(6, root.GetProperty("jobs").GetInt32());
        Assert.Equal(3.5, root.GetProperty("elapsedSeconds").GetDouble());
    }

    [Fact]
    public void ReportJson_AddsSeriesAndStints_OnlyWhenAsked()
    {
        using var json = JsonDocument.Parse(ReportJson.Serialize(Report(["a"]), includeSeries: true));
        var scheduler = json.RootElement.GetProperty("policies").GetProperty("scheduler");

        Assert.Equal(48, scheduler.GetProperty("sites")[0].GetProperty("greenMegawatts").GetArrayLength());
        Assert.Equal(6, scheduler.GetProperty("stints").GetArrayLength());
    }

    [Fact]
    public void ReportTable_ShowsEveryPolicy_EveryFigureWithItsUnit_AndTheRatios()
    {
        var writer = new StringWriter();
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(writer), ColorSystem = ColorSystemSupport.NoColors, Ansi = AnsiSupport.No });
        console.Profile.Width = 200;

        ReportTable.Write(Report(["a"]), console);
        var text = writer.ToString();

        foreach (var policy in new[] { "scheduler", "greedy", "agnostic", "optimum" }) Assert.Contains(policy, text);
        foreach (var label in new[] { "Green used", "Green share", "Curtailed", "Grid import", "Export", "Battery throughput", "Deadline misses", "Tokens per kWh", "CO2 emitted" })
            Assert.Contains(label, text);
        Assert.Contains("MWh", text);
        Assert.Contains("Ratio to optimum", text);
        Assert.Contains("0.889", text);
        Assert.Contains("Captured gain", text);
        Assert.Contains("0.667", text);
    }

    [GeneratedRegex("<section class=\"site\" id=\"site-([^\"]+)\">(.*?)</section>", RegexOptions.Singleline)]
    private static partial Regex SiteSection();

    [Fact]
    public void HtmlReport_IsWritten_WithTheScoreboard_AndAnImagePerSite()
    {
        var path = Path.Combine(Path.GetTempPath(), $"report-{Guid.NewGuid():N}.html");
        try
        {
            HtmlReport.Write(Report(["a", "b", "c"]), path);
            var html = File.ReadAllText(path);

            Assert.StartsWith("<!DOCTYPE html>", html);
            Assert.Contains("<table id=\"scoreboard\">", html);
            var sections = SiteSection().Matches(html);
            Assert.Equal(["a", "b", "c"], sections.Select(m => m.Groups[1].Value));
            Assert.All(sections, m => Assert.Contains("src=\"data:image/png;base64,", m.Groups[2].Value));
            Assert.Contains("id=\"placement\"", html);
            Assert.Contains("every step", html);
            Assert.DoesNotContain("src=\"http", html); // self-contained
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void HtmlReport_OfAFullYear_IsDownsampledToDailyMeans_AndStaysSmall()
    {
        var report = Report(["a", "b", "c"], steps: 8760, jobs: 5000);

        var html = HtmlReport.Render(report);

        Assert.Contains("daily means (24 steps per point)", html);
        Assert.True(html.Length < 3_000_000, $"{html.Length:N0} characters");
    }

    [Fact]
    public void HtmlReport_ShowsTheOptimumsGpus_WhenGiven()
    {
        var scenario = Scenario([Site("a"), Site("b")], new Dictionary<string, double[]> { ["a"] = [1, 0, 2], ["b"] = [0, 3, 0] }, [Job("j", 1500)]);
        var solution = OfflineOptimum.SolveDetailed(scenario);
        var report = ReplayScoring.CreateReport(scenario.Name, scenario.Start, scenario.End, scenario.Step, scenario.Jobs.Count, [solution.Result], 0.1);

        var html = HtmlReport.Render(report, new HtmlReportOptions { Jobs = scenario.Jobs, OptimumGpusRunning = solution.GpusRunning });

        Assert.Contains("alt=\"optimum: GPUs per site\"", html);
    }
}
