namespace Scheduler.Replay.Optimum;

/// <summary>The LP solver behind <see cref="OfflineOptimum"/>.</summary>
public enum OptimumLpSolver
{
    /// <summary>Google's primal/dual simplex: exact vertex solutions.</summary>
    Glop,

    /// <summary>Primal-dual hybrid gradient: first-order, approximate (relative tolerance about 1e-6); slow to converge on this LP.</summary>
    Pdlp,

    /// <summary>COIN-OR CLP's dual simplex, as bundled with OR-Tools.</summary>
    Clp,

    /// <summary>COIN-OR CLP's interior point (barrier) method, as bundled with OR-Tools.</summary>
    ClpBarrier,
}

/// <summary>Settings of the offline optimum. The defaults suit a year of hourly steps.</summary>
public sealed class OptimumOptions
{
    /// <summary>
    /// The LP solver. Default: <see cref="OptimumLpSolver.ClpBarrier"/>, the fastest of the bundled solvers on a year of
    /// hourly steps (its Cholesky factor stays banded because every coupling runs along time); GLOP's simplex needs
    /// several times longer there and PDLP does not converge in minutes (docs/scenarios.md has the measurements).
    /// </summary>
    public OptimumLpSolver Solver { get; set; } = OptimumLpSolver.ClpBarrier;

    /// <summary>
    /// Objective cost of one GPU-hour of work not done by its deadline, in MWh of green energy. It must exceed the green
    /// energy one GPU-hour can ever draw, so that skipping or delaying work never pays and the slack is used only when a
    /// deadline cannot be met at all. Default: null, meaning 100 × the largest facility energy of one GPU-hour in the fleet.
    /// </summary>
    public double? UnmetWorkPenaltyMegawattHoursPerGpuHour { get; set; }

    /// <summary>
    /// Objective cost of one MWh of load left unserved (only possible where the base load alone exceeds the grid import
    /// limit and green plus battery fall short), in MWh of green energy. Default: 100.
    /// </summary>
    public double ShortfallPenaltyPerMegawattHour { get; set; } = 100;

    /// <summary>
    /// Objective cost of one MWh of grid import and of one MWh charged into a battery: a tie-break among schedules with the
    /// same green energy, so that the reported import and battery throughput are not inflated by pointless choices.
    /// Small enough not to trade green energy away in any measurable amount. Default: 1e-6.
    /// </summary>
    public double TieBreakPerMegawattHour { get; set; } = 1e-6;

    /// <summary>Wall-clock limit of the solve; null for none. Default: null.</summary>
    public TimeSpan? TimeLimit { get; set; }

    /// <summary>
    /// Solver-specific parameters in the solver's text format (GlopParameters or PrimalDualHybridGradientParams), e.g.
    /// <c>use_dual_simplex: true</c>; null for the defaults of <see cref="OfflineOptimum"/>. Default: null.
    /// </summary>
    public string? SolverParameters { get; set; }

    /// <summary>Lets the solver log its progress to standard error. Default: false.</summary>
    public bool SolverOutput { get; set; }

    /// <summary>Solver threads (PDLP only uses more than one). Default: 1.</summary>
    public int Threads { get; set; } = 1;

    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (UnmetWorkPenaltyMegawattHoursPerGpuHour is { } p && !(p > 0 && double.IsFinite(p))) errors.Add("unmet_work_penalty: must be > 0 and finite");
        if (!(ShortfallPenaltyPerMegawattHour > 1 && double.IsFinite(ShortfallPenaltyPerMegawattHour))) errors.Add("shortfall_penalty: must be > 1 and finite");
        if (!(TieBreakPerMegawattHour >= 0 && TieBreakPerMegawattHour < 1e-3)) errors.Add("tie_break: must be in [0, 1e-3)");
        if (TimeLimit is { } t && t <= TimeSpan.Zero) errors.Add("time_limit: must be > 0");
        if (Threads < 1) errors.Add("threads: must be >= 1");
        return errors;
    }
}
