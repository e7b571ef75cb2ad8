namespace Scheduler.Replay;

/// <summary>
/// One policy's figures over a replay. Energies in MWh, money in CNY, carbon in kg. JSON names are these property
/// names in camelCase (e.g. <c>greenUsedMWh</c>), as docs/scenarios.md lists them.
/// </summary>
/// <param name="GreenAvailableMWh">Green generation at all sites over the replay.</param>
/// <param name="GreenUsedMWh">Green energy delivered to compute, directly or through the battery.</param>
/// <param name="GreenShare">Green used ÷ compute energy, 0..1.</param>
/// <param name="CurtailedMWh">Green generation thrown away (no load, battery full).</param>
/// <param name="GridImportMWh">Energy drawn from the public grid.</param>
/// <param name="ExportMWh">Energy sent back to the public grid: must be 0.</param>
/// <param name="BatteryThroughputMWh">Energy discharged from the batteries.</param>
/// <param name="DeadlineMisses">Jobs that finished after, or were unfinished at, their deadline within the replay.</param>
/// <param name="CompletedJobs">Jobs that did all their work.</param>
/// <param name="Relocations">Checkpoint moves between sites.</param>
/// <param name="RelocatedGB">Checkpoint volume moved.</param>
/// <param name="RelocationMWh">Energy spent moving checkpoints.</param>
/// <param name="CostCny">Energy cost.</param>
/// <param name="Co2Kg">CO2 emitted by grid energy.</param>
/// <param name="TokensPerKwh">Tokens produced per kWh of compute energy.</param>
public sealed record Scoreboard(
    double GreenAvailableMWh,
    double GreenUsedMWh,
    double GreenShare,
    double CurtailedMWh,
    double GridImportMWh,
    double ExportMWh,
    double BatteryThroughputMWh,
    int DeadlineMisses,
    int CompletedJobs,
    int Relocations,
    double RelocatedGB,
    double RelocationMWh,
    double CostCny,
    double Co2Kg,
    double TokensPerKwh);

/// <summary>A site's power balance at every step of a replay, MW (SoC as a fraction 0..1).</summary>
public sealed record SiteSeries(
    string SiteId,
    double[] GreenMegawatts,
    double[] LoadMegawatts,
    double[] BatteryMegawatts,
    double[] StateOfChargeFraction,
    double[] GridImportMegawatts,
    double[] CurtailmentMegawatts,
    double[] ExportMegawatts);

/// <summary>A stretch of steps [<paramref name="FromStep"/>, <paramref name="ToStep"/>) during which a job ran at one site.</summary>
public sealed record JobStint(string JobId, string SiteId, int FromStep, int ToStep);

/// <summary>What one policy did over the replay.</summary>
public sealed record PolicyResult(string Policy, Scoreboard Scoreboard, IReadOnlyList<SiteSeries> Sites, IReadOnlyList<JobStint> Stints);

/// <summary>
/// The scoreboard of a replay: every policy's result, and our scheduler measured against the baselines and the optimum.
/// </summary>
/// <param name="RatioToOptimum">Our green energy used ÷ the optimum's.</param>
/// <param name="CapturedGain">(ours − agnostic) ÷ (optimum − agnostic), on green energy used.</param>
public sealed record ReplayReport(
    string Scenario,
    DateTimeOffset From,
    DateTimeOffset To,
    TimeSpan Step,
    int Jobs,
    IReadOnlyDictionary<string, PolicyResult> Policies,
    double RatioToOptimum,
    double CapturedGain,
    double ElapsedSeconds);

/// <summary>Policy names, as the report and the ReplayService use them.</summary>
public static class Policies
{
    public const string Scheduler = "scheduler";
    public const string Agnostic = "agnostic";
    public const string Greedy = "greedy";
    public const string Optimum = "optimum";
}
