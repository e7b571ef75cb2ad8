namespace Scheduler.Replay.Optimum;

using System.Diagnostics;
using Google.OrTools.LinearSolver;
using Scheduler.Core.Model;
using Scheduler.Scenarios;

/// <summary>
/// The offline optimum: a linear program with perfect foresight of every plant's output, every site's temperature and
/// every job, that maximises the green energy (direct or through a battery) delivered to compute. GPUs are fractional
/// and relocation is free, so it bounds from above what any scheduler can achieve on the same scenario. The
/// formulation, and why it is an upper bound, are in docs/scenarios.md ("The offline optimum").
/// </summary>
public static class OfflineOptimum
{
    /// <summary>Solves the optimum with default options and returns it as a policy result named <see cref="Policies.Optimum"/>.</summary>
    public static PolicyResult Solve(LoadedScenario scenario) => SolveDetailed(scenario).Result;

    /// <summary>
    /// Solves the optimum and returns it with the LP's size, timings and slacks.
    /// Throws <see cref="InvalidOperationException"/> only when the solver fails outright (it cannot be infeasible:
    /// unmet work and unserved load have penalised slacks).
    /// </summary>
    /// <summary>
    /// GPU columns count thousands of GPUs and work columns thousands of GPU-hours, so that coefficients and bounds sit
    /// near 1 (a year of work is ~1e7 GPU-hours; one GPU draws ~1e-3 MW): both solvers converge faster on a
    /// well-scaled model.
    /// </summary>
    private const double GpusPerUnit = 1000;

    public static OptimumSolution SolveDetailed(LoadedScenario scenario, OptimumOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(scenario);
        options ??= new OptimumOptions();
        var errors = options.Validate();
        if (errors.Count > 0) throw new ArgumentException("invalid optimum options: " + string.Join("; ", errors), nameof(options));

        var solverId = options.Solver switch { OptimumLpSolver.Pdlp => "PDLP", OptimumLpSolver.Clp or OptimumLpSolver.ClpBarrier => "CLP", _ => "GLOP" };
        using var solver = Solver.CreateSolver(solverId)
            ?? throw new InvalidOperationException($"OR-Tools solver {solverId} is not available");
        var build = Stopwatch.StartNew();
        var model = new OptimumModel(scenario, options, solver);
        build.Stop();

        if (options.TimeLimit is { } limit) solver.SetTimeLimit((long)limit.TotalMilliseconds);
        if (options.Threads > 1) solver.SetNumThreads(options.Threads);
        if (options.SolverOutput) solver.EnableOutput();
        if (!string.IsNullOrWhiteSpace(options.SolverParameters) && !solver.SetSolverSpecificParametersAsString(options.SolverParameters))
            throw new ArgumentException($"{solverId} rejected the parameters '{options.SolverParameters}'", nameof(options));
        var solve = Stopwatch.StartNew();
        using var parameters = new MPSolverParameters();
        if (options.Solver == OptimumLpSolver.ClpBarrier)
            parameters.SetIntegerParam(MPSolverParameters.IntegerParam.LP_ALGORITHM, (int)MPSolverParameters.LpAlgorithmValues.BARRIER);
        var status = model.HasColumns ? solver.Solve(parameters) : Solver.ResultStatus.OPTIMAL;
        solve.Stop();
        if (status is not (Solver.ResultStatus.OPTIMAL or Solver.ResultStatus.FEASIBLE))
            throw new InvalidOperationException($"offline optimum for '{scenario.Name}': {solverId} returned {status}");

        return model.Extract(solverId, status.ToString(), build.Elapsed.TotalSeconds, solve.Elapsed.TotalSeconds,
            model.HasColumns ? solver.Objective().Value() : 0);
    }

    /// <summary>The LP of one scenario: its columns by site and step, and the reading of the solution.</summary>
    private sealed class OptimumModel
    {
        private readonly LoadedScenario _scenario;
        private readonly Solver _solver;
        private readonly double _hours;
        private readonly IReadOnlyList<JobClass> _classes;
        private readonly SiteColumns[] _sites;
        private readonly Variable?[][] _phantom;
        private readonly double _unplaceableGpuHours;
        private long _nonzeros;

        public OptimumModel(LoadedScenario scenario, OptimumOptions options, Solver solver)
        {
            _scenario = scenario;
            _solver = solver;
            _hours = scenario.Step.TotalHours;
            _classes = JobClass.From(scenario);
            var steps = scenario.Steps;
            var objective = solver.Objective();
            objective.SetMaximization();
            var tieBreak = options.TieBreakPerMegawattHour * _hours;

            // Balance, battery and grid, per site and step.
            _sites = new SiteColumns[scenario.Sites.Count];
            for (var s = 0; s < _sites.Length; s++)
            {
                var site = scenario.Sites[s];
                var columns = new SiteColumns(site, steps);
                _sites[s] = columns;
                var battery = site.Battery;
                columns.HasBattery = battery.CapacityMegawattHours > 0 && battery.MaxChargeMegawatts > 0 && battery.MaxDischargeMegawatts > 0
                    && battery.MaxEnergyMegawattHours > battery.MinEnergyMegawattHours;
                var celsius = scenario.SiteCelsius.TryGetValue(site.Id, out var c) ? c : null;
                var plants = scenario.Plants.Where(p => p.SiteId == site.Id).Select(p => scenario.PlantMegawatts[p.Id]).ToList();
                for (var t = 0; t < steps; t++)
                {
                    var green = 0.0;
                    foreach (var series in plants) green += series[t];
                    // Round away float dust (1e-15 MW of sun at dusk) that only hurts the solver's scaling.
                    green = green > 1e-9 ? green : 0;
                    columns.Green[t] = green;
                    var pue = site.Cooling.PueAt(celsius is null ? double.NaN : celsius[t]);
                    columns.PerGpuMegawatts[t] = site.KilowattsPerGpu / 1000.0 * pue;
                    columns.PerUnitMegawatts[t] = columns.PerGpuMegawatts[t] * GpusPerUnit;
                    columns.BaseMegawatts[t] = site.BaseLoadMegawatts * pue;

                    var direct = solver.MakeNumVar(0, green, "");
                    var import = solver.MakeNumVar(0, site.GridImportLimitMegawatts, "");
                    columns.Direct[t] = direct;
                    columns.Import[t] = import;
                    objective.SetCoefficient(direct, _hours);
                    objective.SetCoefficient(import, -tieBreak);

                    // Load balance: green direct + battery out + grid (+ unserved) = base load + GPUs, all × PUE.
                    var balance = solver.MakeConstraint(columns.BaseMegawatts[t], columns.BaseMegawatts[t], "");
                    columns.Balance[t] = balance;
                    Set(balance, direct, 1);
                    Set(balance, import, 1);
                    // Unserved load only where even the full grid limit cannot carry the base load: elsewhere the base load
                    // is always servable and GPU load is optional in any single step.
                    if (columns.BaseMegawatts[t] > site.GridImportLimitMegawatts)
                    {
                        var unserved = solver.MakeNumVar(0, columns.BaseMegawatts[t], "");
                        columns.Unserved[t] = unserved;
                        Set(balance, unserved, 1);
                        objective.SetCoefficient(unserved, -options.ShortfallPenaltyPerMegawattHour * _hours);
                    }

                    if (!columns.HasBattery) continue;
                    var charge = solver.MakeNumVar(0, battery.MaxChargeMegawatts, "");
                    var discharge = solver.MakeNumVar(0, battery.MaxDischargeMegawatts, "");
                    var soc = solver.MakeNumVar(battery.MinEnergyMegawattHours, battery.MaxEnergyMegawattHours, "");
                    columns.Charge[t] = charge;
                    columns.Discharge[t] = discharge;
                    columns.StateOfCharge[t] = soc;
                    objective.SetCoefficient(discharge, _hours);
                    objective.SetCoefficient(charge, -tieBreak);
                    Set(balance, discharge, 1);
                    // Only green charges the battery: direct use + charge <= supply (the rest is curtailed, never exported).
                    var split = solver.MakeConstraint(double.NegativeInfinity, green, "");
                    Set(split, direct, 1);
                    Set(split, charge, 1);
                    // State of charge, as PowerBalance keeps it: in × sqrt(eta), out ÷ sqrt(eta); it starts at the minimum.
                    var previous = t == 0 ? null : columns.StateOfCharge[t - 1];
                    var rhs = t == 0 ? battery.MinEnergyMegawattHours : 0;
                    var dynamics = solver.MakeConstraint(rhs, rhs, "");
                    Set(dynamics, soc, 1);
                    if (previous is not null) Set(dynamics, previous, -1);
                    Set(dynamics, charge, -battery.ChargeEfficiency * _hours);
                    Set(dynamics, discharge, _hours / battery.DischargeEfficiency);
                }
            }

            // GPUs per job class, site and step; capacity per site and step.
            var classesAt = new List<int>[_sites.Length];
            for (var s = 0; s < _sites.Length; s++) classesAt[s] = [];
            for (var g = 0; g < _classes.Count; g++)
                foreach (var s in _classes[g].SiteIndices)
                    if (scenario.Sites[s].GpuCount > 0) classesAt[s].Add(g);
            for (var s = 0; s < _sites.Length; s++)
            {
                var columns = _sites[s];
                var gpuCount = scenario.Sites[s].GpuCount;
                foreach (var g in classesAt[s]) columns.Gpus[g] = new Variable?[steps];
                for (var t = 0; t < steps; t++)
                {
                    var active = classesAt[s].Where(g => t >= _classes[g].FirstStep && t <= _classes[g].LastStep).ToList();
                    // With one class at the site the capacity is a bound on its column, not a row.
                    var capacity = active.Count > 1 ? solver.MakeConstraint(double.NegativeInfinity, gpuCount / GpusPerUnit, "") : null;
                    foreach (var g in active)
                    {
                        var gpus = solver.MakeNumVar(0, gpuCount / GpusPerUnit, "");
                        columns.Gpus[g]![t] = gpus;
                        Set(columns.Balance[t], gpus, -columns.PerUnitMegawatts[t]);
                        if (capacity is not null) Set(capacity, gpus, 1);
                    }
                }
            }

            // Cumulative work per class: arrived >= done >= due, where "done" may include penalised phantom work at the
            // steps where work falls due (the guard against impossible deadlines).
            var penalty = options.UnmetWorkPenaltyMegawattHoursPerGpuHour ?? DefaultUnmetWorkPenalty(scenario);
            _phantom = new Variable?[_classes.Count][];
            for (var g = 0; g < _classes.Count; g++)
            {
                var jobClass = _classes[g];
                _phantom[g] = new Variable?[steps];
                var sites = jobClass.SiteIndices.Where(s => scenario.Sites[s].GpuCount > 0).ToArray();
                if (sites.Length == 0)
                {
                    // Nowhere to run: all of its work is unmet, and nothing in the LP depends on it.
                    _unplaceableGpuHours += jobClass.WorkGpuHours;
                    continue;
                }
                Variable? done = null;
                for (var t = jobClass.FirstStep; t <= jobClass.LastStep; t++)
                {
                    var cumulative = solver.MakeNumVar(jobClass.DueGpuHours[t] / GpusPerUnit, jobClass.ArrivedGpuHours[t] / GpusPerUnit, "");
                    var chain = solver.MakeConstraint(0, 0, "");
                    Set(chain, cumulative, 1);
                    if (done is not null) Set(chain, done, -1);
                    foreach (var s in sites) Set(chain, _sites[s].Gpus[g]![t]!, -_hours);
                    var rate = solver.MakeConstraint(double.NegativeInfinity, jobClass.ActiveGpus[t] / GpusPerUnit, "");
                    foreach (var s in sites) Set(rate, _sites[s].Gpus[g]![t]!, 1);
                    var newlyDue = jobClass.DueGpuHours[t] - (t > 0 ? jobClass.DueGpuHours[t - 1] : 0);
                    if (newlyDue > 0)
                    {
                        var phantom = solver.MakeNumVar(0, newlyDue / GpusPerUnit, "");
                        _phantom[g][t] = phantom;
                        Set(chain, phantom, -1);
                        objective.SetCoefficient(phantom, -penalty * GpusPerUnit);
                    }
                    done = cumulative;
                }
            }
        }

        public bool HasColumns => _solver.NumVariables() > 0;

        /// <summary>Reads the solution into a policy result and its diagnostics.</summary>
        public OptimumSolution Extract(string solverId, string status, double buildSeconds, double solveSeconds, double objectiveValue)
        {
            var steps = _scenario.Steps;
            var hours = _hours;
            var seriesList = new List<SiteSeries>(_sites.Length);
            var gpusRunning = new Dictionary<string, double[]>(StringComparer.Ordinal);
            double available = 0, greenUsed = 0, import = 0, curtailed = 0, discharged = 0, cost = 0, co2 = 0, unserved = 0;
            for (var s = 0; s < _sites.Length; s++)
            {
                var columns = _sites[s];
                var site = columns.Site;
                var greenPrice = GreenPriceCnyPerKilowattHour(site.Id);
                var load = new double[steps];
                var batteryMw = new double[steps];
                var socFraction = new double[steps];
                var importMw = new double[steps];
                var curtailMw = new double[steps];
                var gpus = new double[steps];
                for (var t = 0; t < steps; t++)
                {
                    var busy = 0.0;
                    foreach (var column in columns.Gpus.Values)
                        if (column[t] is { } v) busy += Value(v) * GpusPerUnit;
                    gpus[t] = busy;
                    var direct = Value(columns.Direct[t]);
                    var charge = columns.Charge[t] is { } c ? Value(c) : 0;
                    var discharge = columns.Discharge[t] is { } d ? Value(d) : 0;
                    var grid = Value(columns.Import[t]);
                    var shortfall = columns.Unserved[t] is { } u ? Value(u) : 0;
                    load[t] = columns.BaseMegawatts[t] + columns.PerGpuMegawatts[t] * busy;
                    batteryMw[t] = discharge - charge;
                    socFraction[t] = columns.StateOfCharge[t] is { } e && site.Battery.CapacityMegawattHours > 0
                        ? Value(e) / site.Battery.CapacityMegawattHours
                        : site.Battery.MinStateOfCharge;
                    importMw[t] = grid;
                    curtailMw[t] = Math.Max(0, columns.Green[t] - direct - charge);

                    available += columns.Green[t] * hours;
                    greenUsed += (direct + discharge) * hours;
                    import += grid * hours;
                    curtailed += curtailMw[t] * hours;
                    discharged += discharge * hours;
                    unserved += shortfall * hours;
                    cost += (direct + discharge) * hours * 1000 * greenPrice + grid * hours * 1000 * site.GridPriceCnyPerKilowattHour;
                    co2 += grid * hours * 1000 * site.GridCarbonKgPerKilowattHour;
                }
                seriesList.Add(new SiteSeries(site.Id, columns.Green, load, batteryMw, socFraction, importMw, curtailMw, new double[steps]));
                gpusRunning[site.Id] = gpus;
            }

            var unmet = _unplaceableGpuHours;
            double tokens = 0;
            for (var g = 0; g < _classes.Count; g++)
            {
                var phantom = 0.0;
                foreach (var v in _phantom[g]) if (v is not null) phantom += Value(v) * GpusPerUnit;
                var placeable = _classes[g].SiteIndices.Any(s => _scenario.Sites[s].GpuCount > 0);
                var undone = placeable ? phantom : _classes[g].WorkGpuHours;
                if (placeable) unmet += phantom;
                if (_classes[g].WorkGpuHours > 0) tokens += _classes[g].Tokens * (1 - undone / _classes[g].WorkGpuHours);
            }

            var compute = greenUsed + import;
            var scoreboard = new Scoreboard(
                GreenAvailableMWh: available,
                GreenUsedMWh: greenUsed,
                GreenShare: compute > 0 ? greenUsed / compute : 0,
                CurtailedMWh: curtailed,
                GridImportMWh: import,
                ExportMWh: 0,
                BatteryThroughputMWh: discharged,
                DeadlineMisses: 0,
                CompletedJobs: _classes.Sum(c => c.Jobs),
                Relocations: 0,
                RelocatedGB: 0,
                RelocationMWh: 0,
                CostCny: cost,
                Co2Kg: co2,
                TokensPerKwh: compute > 0 ? tokens / (compute * 1000) : 0);
            var result = new PolicyResult(Policies.Optimum, scoreboard, seriesList, []);
            return new OptimumSolution(result, solverId, status, _solver.NumVariables(), _solver.NumConstraints(), _nonzeros,
                _classes.Count, buildSeconds, solveSeconds, objectiveValue, unmet, unserved, gpusRunning);
        }

        private void Set(Constraint row, Variable column, double coefficient)
        {
            row.SetCoefficient(column, coefficient);
            _nonzeros++;
        }

        private static double Value(Variable v) => Math.Max(0, v.SolutionValue());

        /// <summary>A site's green price: its plants' nameplate-weighted price, as FleetSimulator prices it.</summary>
        private double GreenPriceCnyPerKilowattHour(string siteId)
        {
            var own = _scenario.Plants.Where(p => p.SiteId == siteId).ToList();
            var mw = own.Sum(p => p.NameplateMegawatts);
            return mw > 0 ? own.Sum(p => p.NameplateMegawatts * p.GreenPriceCnyPerKilowattHour) / mw : PlantSpec.DefaultGreenPriceCnyPerKilowattHour;
        }

        /// <summary>100 × the most facility energy one GPU-hour can draw anywhere: late work can never buy that much green.</summary>
        private static double DefaultUnmetWorkPenalty(LoadedScenario scenario)
        {
            var most = scenario.Sites.Count == 0 ? 0 : scenario.Sites.Max(s => s.KilowattsPerGpu / 1000.0 * Math.Max(s.Cooling.MechanicalPue, s.Cooling.FreeCoolingPue));
            return 100 * Math.Max(most, 1e-3);
        }
    }

    /// <summary>The columns and rows of one site, by step.</summary>
    private sealed class SiteColumns(SiteSpec site, int steps)
    {
        public SiteSpec Site { get; } = site;
        public bool HasBattery { get; set; }
        public double[] Green { get; } = new double[steps];
        public double[] PerGpuMegawatts { get; } = new double[steps];
        public double[] PerUnitMegawatts { get; } = new double[steps];
        public double[] BaseMegawatts { get; } = new double[steps];
        public Variable[] Direct { get; } = new Variable[steps];
        public Variable[] Import { get; } = new Variable[steps];
        public Variable?[] Unserved { get; } = new Variable?[steps];
        public Variable?[] Charge { get; } = new Variable?[steps];
        public Variable?[] Discharge { get; } = new Variable?[steps];
        public Variable?[] StateOfCharge { get; } = new Variable?[steps];
        public Constraint[] Balance { get; } = new Constraint[steps];
        /// <summary>Job class index → GPUs of that class here at each step (null outside the class's window).</summary>
        public Dictionary<int, Variable?[]> Gpus { get; } = [];
    }
}
