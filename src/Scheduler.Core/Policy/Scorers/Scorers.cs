namespace Scheduler.Core.Policy.Scorers;

/// <summary>Green surplus left at the site after the job is added, MW. Prefers the most surplus now.</summary>
public sealed class GreenHeadroomScorer : ISiteScorer
{
    public const string ScorerName = "green-headroom";
    public string Name => ScorerName;
    public double Score(in Candidate c) => c.HeadroomMegawatts - c.JobPowerMegawatts;
}

/// <summary>
/// Mean forecast surplus over the job's next hours (up to the gain horizon) after the job is added, MW.
/// A site without a forecast is scored on its current surplus (persistence forecast).
/// </summary>
public sealed class ForecastHeadroomScorer : ISiteScorer
{
    public const string ScorerName = "forecast-headroom";
    public string Name => ScorerName;
    public double Score(in Candidate c) =>
        c.Site.MeanForecastSupplyMegawatts(c.Now, c.HorizonHours) - c.LoadMegawatts - c.JobPowerMegawatts;
}

/// <summary>Battery energy available above its minimum, MWh: a fuller battery rides through a lull.</summary>
public sealed class BatteryStateScorer : ISiteScorer
{
    public const string ScorerName = "battery-state";
    public string Name => ScorerName;
    public double Score(in Candidate c) => c.Site.BatteryAvailableMegawattHours;
}

/// <summary>Negative cost of getting there, MWh (0 for staying put or a queued job).</summary>
public sealed class RelocationCostScorer : ISiteScorer
{
    public const string ScorerName = "relocation-cost";
    public string Name => ScorerName;
    public double Score(in Candidate c) => c.ChangesSite && c.Move is { } move ? -move.TotalMegawattHours : 0;
}

/// <summary>Fraction of the site's GPUs still free after the job is added: spreads load, blind to power.</summary>
public sealed class LeastLoadedScorer : ISiteScorer
{
    public const string ScorerName = "least-loaded";
    public string Name => ScorerName;
    public double Score(in Candidate c) =>
        c.Site.Spec.GpuCount > 0 ? (c.FreeGpus - c.Job.Spec.Gpus) / (double)c.Site.Spec.GpuCount : 0;
}
