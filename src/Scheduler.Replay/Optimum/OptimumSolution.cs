namespace Scheduler.Replay.Optimum;

/// <summary>
/// The offline optimum with its diagnostics: the <see cref="PolicyResult"/> the scoreboard shows, and what the LP looked
/// like and how far it had to bend (unmet work, shortfall) to stay feasible.
/// </summary>
/// <param name="Result">The optimum as a policy result (policy name <see cref="Policies.Optimum"/>).</param>
/// <param name="Solver">The solver that ran (GLOP or PDLP).</param>
/// <param name="Status">The solver's result status, e.g. OPTIMAL.</param>
/// <param name="Variables">Columns of the LP.</param>
/// <param name="Constraints">Rows of the LP.</param>
/// <param name="Nonzeros">Non-zero coefficients in the rows.</param>
/// <param name="JobClasses">Job classes (jobs sharing one set of allowed sites) the jobs were aggregated into.</param>
/// <param name="BuildSeconds">Wall time to build the model, s.</param>
/// <param name="SolveSeconds">Wall time of the solver, s.</param>
/// <param name="ObjectiveValue">Green energy used minus penalties and tie-breaks, MWh.</param>
/// <param name="UnmetWorkGpuHours">Work the LP could not fit before its deadlines (0 unless some deadline is impossible even with every GPU free).</param>
/// <param name="ShortfallMegawattHours">Load the LP could not serve (0 unless the base load alone exceeds what a site can get).</param>
/// <param name="GpusRunning">Site id → GPUs busy at each step (fractional), for the report.</param>
public sealed record OptimumSolution(
    PolicyResult Result,
    string Solver,
    string Status,
    int Variables,
    int Constraints,
    long Nonzeros,
    int JobClasses,
    double BuildSeconds,
    double SolveSeconds,
    double ObjectiveValue,
    double UnmetWorkGpuHours,
    double ShortfallMegawattHours,
    IReadOnlyDictionary<string, double[]> GpusRunning);
