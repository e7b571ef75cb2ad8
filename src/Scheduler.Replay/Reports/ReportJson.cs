namespace Scheduler.Replay.Reports;

using System.Text.Json;
using System.Text.Json.Nodes;

/// <summary>
/// The report as JSON (camelCase): <c>scenario</c>, <c>from</c>, <c>to</c>, <c>step</c>, <c>jobs</c>,
/// <c>policies.&lt;name&gt;.&lt;scoreboard figure&gt;</c> (e.g. <c>policies.scheduler.greenUsedMWh</c>),
/// <c>ratioToOptimum</c>, <c>capturedGain</c>, <c>elapsedSeconds</c>. Site series and job stints are left out unless
/// asked for (<c>policies.&lt;name&gt;.sites</c> and <c>.stints</c>): a year of hourly series is megabytes.
/// </summary>
public static class ReportJson
{
    private static readonly JsonSerializerOptions Options = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        WriteIndented = true,
    };

    /// <summary>Serialises the report; <paramref name="includeSeries"/> adds each policy's site series and stints.</summary>
    public static string Serialize(ReplayReport report, bool includeSeries = false) => ToJson(report, includeSeries).ToJsonString(Options);

    /// <summary>Writes the report to a file (UTF-8).</summary>
    public static void Write(ReplayReport report, string path, bool includeSeries = false) =>
        File.WriteAllText(path, Serialize(report, includeSeries));

    /// <summary>The report as a JSON tree, for callers that add to it.</summary>
    public static JsonObject ToJson(ReplayReport report, bool includeSeries = false)
    {
        ArgumentNullException.ThrowIfNull(report);
        var policies = new JsonObject();
        foreach (var policy in ReplayScoring.Ordered(report))
        {
            // The scoreboard's own property names, camelCased: the keys are the contract (docs/scenarios.md lists them).
            var node = JsonSerializer.SerializeToNode(policy.Scoreboard, Options)!.AsObject();
            if (includeSeries)
            {
                node["sites"] = JsonSerializer.SerializeToNode(policy.Sites, Options);
                node["stints"] = JsonSerializer.SerializeToNode(policy.Stints, Options);
            }
            policies[policy.Policy] = node;
        }
        return new JsonObject
        {
            ["scenario"] = report.Scenario,
            ["from"] = report.From,
            ["to"] = report.To,
            ["step"] = report.Step.ToString("c"),
            ["jobs"] = report.Jobs,
            ["policies"] = policies,
            ["ratioToOptimum"] = report.RatioToOptimum,
            ["capturedGain"] = report.CapturedGain,
            ["elapsedSeconds"] = report.ElapsedSeconds,
        };
    }
}
