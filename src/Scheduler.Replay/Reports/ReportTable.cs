namespace Scheduler.Replay.Reports;

using Spectre.Console;
using Spectre.Console.Rendering;

/// <summary>The scoreboard as a terminal table: one column per policy, one row per figure with its unit, then the two ratios.</summary>
public static class ReportTable
{
    /// <summary>Builds the table (render it with any <see cref="IAnsiConsole"/>).</summary>
    public static Table Build(ReplayReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        var policies = ReplayScoring.Ordered(report);
        var table = new Table().Border(TableBorder.Rounded)
            .Title($"[bold]{Markup.Escape(report.Scenario)}[/] {report.From:yyyy-MM-dd HH:mm} → {report.To:yyyy-MM-dd HH:mm} UTC, step {report.Step}, {report.Jobs:N0} jobs");
        table.AddColumn("figure");
        table.AddColumn("unit");
        foreach (var policy in policies) table.AddColumn(new TableColumn(Markup.Escape(policy.Policy)).RightAligned());
        foreach (var row in ScoreboardRow.All)
        {
            var cells = new List<IRenderable> { new Text(row.Label), new Text(row.Unit) };
            cells.AddRange(policies.Select(p => (IRenderable)new Text(row.Text(p.Scoreboard))));
            table.AddRow(cells);
        }
        table.AddEmptyRow();
        AddRatio(table, policies.Count, "Ratio to optimum", "ours ÷ optimum, green used", report.RatioToOptimum);
        AddRatio(table, policies.Count, "Captured gain", "(ours − agnostic) ÷ (optimum − agnostic)", report.CapturedGain);
        table.Caption($"replay took {report.ElapsedSeconds:N1} s");
        return table;
    }

    /// <summary>Writes the table to <paramref name="console"/> (default: <see cref="AnsiConsole.Console"/>).</summary>
    public static void Write(ReplayReport report, IAnsiConsole? console = null) => (console ?? AnsiConsole.Console).Write(Build(report));

    private static void AddRatio(Table table, int policies, string label, string unit, double value)
    {
        var cells = new List<IRenderable> { new Markup($"[bold]{label}[/]"), new Text(unit) };
        // The ratio belongs to the whole report: shown once, under the first policy column.
        cells.Add(new Markup($"[bold]{ScoreboardRow.Ratio(value)}[/]"));
        for (var i = 1; i < policies; i++) cells.Add(new Text(""));
        table.AddRow(cells);
    }
}
