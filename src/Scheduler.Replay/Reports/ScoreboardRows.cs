namespace Scheduler.Replay.Reports;

using System.Globalization;

/// <summary>One figure of the scoreboard as the table and the HTML show it: a label with its unit, and how to format it.</summary>
internal sealed record ScoreboardRow(string Label, string Unit, Func<Scoreboard, double> Value, string Format)
{
    public string Text(Scoreboard board) => Value(board).ToString(Format, CultureInfo.InvariantCulture);

    /// <summary>Every scoreboard figure, in reading order.</summary>
    public static IReadOnlyList<ScoreboardRow> All { get; } =
    [
        new("Green available", "MWh", b => b.GreenAvailableMWh, "N1"),
        new("Green used", "MWh", b => b.GreenUsedMWh, "N1"),
        new("Green share", "%", b => b.GreenShare * 100, "N1"),
        new("Curtailed", "MWh", b => b.CurtailedMWh, "N1"),
        new("Grid import", "MWh", b => b.GridImportMWh, "N1"),
        new("Export", "MWh", b => b.ExportMWh, "N1"),
        new("Battery throughput", "MWh", b => b.BatteryThroughputMWh, "N1"),
        new("Deadline misses", "jobs", b => b.DeadlineMisses, "N0"),
        new("Completed jobs", "jobs", b => b.CompletedJobs, "N0"),
        new("Relocations", "moves", b => b.Relocations, "N0"),
        new("Relocated", "GB", b => b.RelocatedGB, "N1"),
        new("Relocation energy", "MWh", b => b.RelocationMWh, "N3"),
        new("Energy cost", "CNY", b => b.CostCny, "N0"),
        new("CO2 emitted", "kg", b => b.Co2Kg, "N0"),
        new("Tokens per kWh", "tokens/kWh", b => b.TokensPerKwh, "N1"),
    ];

    public static string Ratio(double value) => value.ToString("0.000", CultureInfo.InvariantCulture);
}
