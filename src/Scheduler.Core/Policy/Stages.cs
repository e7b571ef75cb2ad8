namespace Scheduler.Core.Policy;

/// <summary>
/// A feasibility stage: a site that fails any filter is excluded for the job. <see cref="Passes"/> runs on the hot
/// path; <see cref="Reason"/> is called only to explain a decision, so it may format strings.
/// </summary>
public interface ISiteFilter
{
    string Name { get; }
    bool Passes(in Candidate candidate);
    string Reason(in Candidate candidate);
}

/// <summary>
/// A ranking stage. Returns a raw score in the scorer's own unit, higher is better. Raw scores are normalised to
/// 0..100 across the passing candidates in a separate step, then weighted (weights live in <see cref="PolicyOptions"/>).
/// </summary>
public interface ISiteScorer
{
    string Name { get; }
    double Score(in Candidate candidate);
}
