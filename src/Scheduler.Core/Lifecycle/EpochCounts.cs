namespace Scheduler.Core.Lifecycle;

/// <summary>
/// The counts of the jobs running at one site, by job id: each job's <see cref="EpochProgress"/> in its current epoch.
/// A site updates them in place every step (values: counting changes no object) and stores them as one value.
/// </summary>
/// <remarks>
/// One type rather than a plain dictionary so that it travels and is stored as one value: core types are written as
/// JSON, and a dictionary of core values took a JSON writer per job at every write of a site.
/// </remarks>
public sealed class EpochCounts : Dictionary<string, EpochProgress>
{
    public EpochCounts() : base(StringComparer.Ordinal) { }
}
