namespace Scheduler.Core.Model;

/// <summary>A data link between two sites (symmetric), used to move checkpoints on a relocation.</summary>
public sealed record LinkSpec(string SiteA, string SiteB, double BandwidthGbps)
{
    public bool Connects(string a, string b) =>
        (SiteA == a && SiteB == b) || (SiteA == b && SiteB == a);
}
