namespace Scheduler.Replay.Reports;

/// <summary>Builds a <see cref="ReplayReport"/> from the policies' results and computes its two ratios.</summary>
public static class ReplayScoring
{
    /// <summary>
    /// Our green energy used ÷ the optimum's. When the optimum used no green energy (there was none to use), the ratio is
    /// 1: nothing was left on the table. Never NaN or infinite.
    /// </summary>
    public static double RatioToOptimum(double oursGreenUsedMWh, double optimumGreenUsedMWh)
    {
        if (optimumGreenUsedMWh <= 0) return 1;
        return oursGreenUsedMWh / optimumGreenUsedMWh;
    }

    /// <summary>
    /// The share of the available improvement we captured: (ours − agnostic) ÷ (optimum − agnostic), on green energy used.
    /// 1 means we matched the optimum, 0 that we did no better than the carbon-agnostic baseline, below 0 that we did worse.
    /// When the baseline already reaches the optimum (denominator ≤ 1e-9 MWh) there was nothing to capture: the gain is 1
    /// if we are at least as good as the baseline, else 0. Never NaN or infinite.
    /// </summary>
    public static double CapturedGain(double oursGreenUsedMWh, double agnosticGreenUsedMWh, double optimumGreenUsedMWh)
    {
        var room = optimumGreenUsedMWh - agnosticGreenUsedMWh;
        if (room <= 1e-9) return oursGreenUsedMWh >= agnosticGreenUsedMWh - 1e-9 ? 1 : 0;
        return (oursGreenUsedMWh - agnosticGreenUsedMWh) / room;
    }

    /// <summary>
    /// Assembles the report. The ratios use the <see cref="Policies.Scheduler"/>, <see cref="Policies.Agnostic"/> and
    /// <see cref="Policies.Optimum"/> results; when the scheduler or the optimum is missing both ratios are 0, and when
    /// only the agnostic baseline is missing the captured gain is 0.
    /// </summary>
    public static ReplayReport CreateReport(string scenario, DateTimeOffset from, DateTimeOffset to, TimeSpan step, int jobs,
        IEnumerable<PolicyResult> policies, double elapsedSeconds)
    {
        ArgumentNullException.ThrowIfNull(policies);
        var byName = new Dictionary<string, PolicyResult>(StringComparer.Ordinal);
        foreach (var policy in policies)
            if (!byName.TryAdd(policy.Policy, policy)) throw new ArgumentException($"policy '{policy.Policy}' appears twice", nameof(policies));

        double ratio = 0, gain = 0;
        if (byName.TryGetValue(Policies.Scheduler, out var ours) && byName.TryGetValue(Policies.Optimum, out var optimum))
        {
            ratio = RatioToOptimum(ours.Scoreboard.GreenUsedMWh, optimum.Scoreboard.GreenUsedMWh);
            if (byName.TryGetValue(Policies.Agnostic, out var agnostic))
                gain = CapturedGain(ours.Scoreboard.GreenUsedMWh, agnostic.Scoreboard.GreenUsedMWh, optimum.Scoreboard.GreenUsedMWh);
        }
        return new ReplayReport(scenario, from, to, step, jobs, byName, ratio, gain, elapsedSeconds);
    }

    /// <summary>The policies in reading order: scheduler, greedy, agnostic, optimum, then any others by name.</summary>
    public static IReadOnlyList<PolicyResult> Ordered(ReplayReport report)
    {
        string[] order = [Policies.Scheduler, Policies.Greedy, Policies.Agnostic, Policies.Optimum];
        return [.. report.Policies.Values.OrderBy(p => Array.IndexOf(order, p.Policy) is var i && i >= 0 ? i : order.Length)
            .ThenBy(p => p.Policy, StringComparer.Ordinal)];
    }
}
