namespace Scheduler.Scenarios;

using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text.RegularExpressions;
using Scheduler.Core.Model;
using Scheduler.Scenarios.Data;
using Scheduler.Scenarios.Generation;
using Scheduler.Scenarios.Workload;
using Scheduler.Scenarios.Yaml;

/// <summary>Options of <see cref="ScenarioLoader"/>.</summary>
public sealed record ScenarioLoadOptions
{
    /// <summary>
    /// Folders tried, in order, for a relative data path that is not found next to the scenario file (e.g. the shared data folder
    /// holding files that may not be bundled). Default: none.
    /// </summary>
    public IReadOnlyList<string> DataSearchPaths { get; init; } = [];
}

/// <summary>
/// Reads a scenario YAML file (snake_case keys, units in key names; every field in docs/scenarios.md), reads the data files it
/// names, and returns a <see cref="LoadedScenario"/>. Every problem is reported as a <see cref="ScenarioLoadException"/> naming the
/// YAML field (<c>sites[1].battery.capacity_mwh: must be within [0, 1000000]</c>). Relative paths are resolved against the scenario
/// file's folder, then <see cref="ScenarioLoadOptions.DataSearchPaths"/>.
/// </summary>
public static partial class ScenarioLoader
{
    /// <summary>Loads a shipped scenario by name (<see cref="ScenarioCatalog.Names"/>) or a scenario file by path.</summary>
    public static LoadedScenario Load(string pathOrName, ScenarioLoadOptions? options = null)
    {
        var path = ScenarioCatalog.Resolve(pathOrName);
        return LoadYaml(File.ReadAllText(path), Path.GetDirectoryName(path)!, Path.GetFileName(path), options);
    }

    /// <summary>Loads scenario YAML text; relative data paths resolve against <paramref name="baseDirectory"/>.</summary>
    public static LoadedScenario LoadYaml(string yaml, string baseDirectory, string sourceName = "inline", ScenarioLoadOptions? options = null)
    {
        var builder = new Builder(baseDirectory, options ?? new ScenarioLoadOptions());
        try
        {
            return builder.Build(YamlFields.Parse(yaml));
        }
        catch (FieldException e)
        {
            throw new ScenarioLoadException(sourceName, e.Field, e.Message, e.InnerException);
        }
        catch (ScenarioErrorsException e)
        {
            throw new ScenarioLoadException(sourceName, e.Errors);
        }
    }

    /// <summary>Several validation errors at once (from the Core specs' <c>Validate()</c>).</summary>
    private sealed class ScenarioErrorsException(IReadOnlyList<ScenarioError> errors) : Exception
    {
        public IReadOnlyList<ScenarioError> Errors { get; } = errors;
    }

    // Core specs name fields after their C# properties; the scenario file uses shorter keys with units. Map one to the other so a
    // Validate() message points at the key the author wrote.
    private static readonly Dictionary<string, string> CoreFieldToYamlKey = new(StringComparer.Ordinal)
    {
        ["kilowatts_per_gpu"] = "kw_per_gpu",
        ["base_load_megawatts"] = "base_load_mw",
        ["grid_import_limit_megawatts"] = "grid_import_limit_mw",
        ["grid_price_cny_per_kilowatt_hour"] = "grid_price_cny_per_kwh",
        ["grid_carbon_kg_per_kilowatt_hour"] = "grid_carbon_kg_per_kwh",
        ["capacity_megawatt_hours"] = "capacity_mwh",
        ["max_charge_megawatts"] = "max_charge_mw",
        ["max_discharge_megawatts"] = "max_discharge_mw",
        ["state_of_charge"] = "min_soc",
        ["nameplate_megawatts"] = "nameplate_mw",
        ["green_price_cny_per_kilowatt_hour"] = "green_price_cny_per_kwh",
    };

    private static IEnumerable<ScenarioError> MapCoreErrors(string prefix, IEnumerable<string> errors)
    {
        foreach (var error in errors)
        {
            var colon = error.IndexOf(": ", StringComparison.Ordinal);
            if (colon < 0) { yield return new ScenarioError(prefix, error); continue; }
            var parts = error[..colon].Split('.');
            for (var i = 0; i < parts.Length; i++)
                if (CoreFieldToYamlKey.TryGetValue(parts[i], out var key)) parts[i] = key;
            yield return new ScenarioError($"{prefix}.{string.Join('.', parts)}", error[(colon + 2)..]);
        }
    }

    private sealed class Builder(string baseDirectory, ScenarioLoadOptions options)
    {
        private readonly Dictionary<string, object> _files = new(StringComparer.Ordinal);
        private readonly List<ScenarioError> _errors = [];
        private DateTimeOffset _start;
        private TimeSpan _clockOffset;
        private TimeSpan _step;
        private int _steps;

        public LoadedScenario Build(YamlFields root)
        {
            var name = root.RequiredString("name");
            root.OptionalString("description");
            var written = ParseStart(root);
            // Scenario times are UTC; the offset written in start still sets the clock of the synthetic diurnal cycle.
            _clockOffset = written.Offset;
            _start = written.ToUniversalTime();
            var stepMinutes = root.Double("step_minutes", 60);
            if (!(stepMinutes > 0 && stepMinutes <= 1440)) throw new FieldException(root.FieldPath("step_minutes"), "must be > 0 and <= 1440");
            _step = TimeSpan.FromMinutes(stepMinutes);
            _steps = ParseSteps(root);
            var region = root.String("region", name);

            var siteItems = root.Items("sites");
            if (siteItems.Count == 0) throw new FieldException(root.FieldPath("sites"), "must list at least one site");
            var sites = new List<SiteSpec>();
            var plants = new List<PlantSpec>();
            var plantMegawatts = new Dictionary<string, double[]>(StringComparer.Ordinal);
            var siteCelsius = new Dictionary<string, double[]>(StringComparer.Ordinal);
            foreach (var item in siteItems)
            {
                var (site, sitePlants, outputs, celsius) = ParseSite(item, region);
                if (sites.Any(s => s.Id == site.Id)) throw new FieldException(item.FieldPath("id"), $"duplicate site id '{site.Id}'");
                sites.Add(site);
                foreach (var plant in sitePlants)
                {
                    if (plantMegawatts.ContainsKey(plant.Id)) throw new FieldException(item.FieldPath("plants"), $"duplicate plant id '{plant.Id}'");
                    plants.Add(plant);
                    plantMegawatts[plant.Id] = outputs[plant.Id];
                }
                siteCelsius[site.Id] = celsius;
            }
            ThrowIfErrors();

            var links = ParseLinks(root, sites);
            var jobs = ParseWorkload(root, sites);
            root.RejectUnknown();
            ThrowIfErrors();
            return new LoadedScenario(name, _start, _step, _steps, sites, plants, links, plantMegawatts, siteCelsius, jobs);
        }

        private void ThrowIfErrors()
        {
            if (_errors.Count > 0) throw new ScenarioErrorsException([.. _errors]);
        }

        private static DateTimeOffset ParseStart(YamlFields root)
        {
            var text = root.RequiredString("start");
            if (!ExplicitOffset().IsMatch(text))
                throw new FieldException(root.FieldPath("start"), $"'{text}' needs a UTC offset, e.g. 2013-01-01T00:00:00-07:00 or 2019-04-01T00:00:00Z");
            if (!DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.None, out var start))
                throw new FieldException(root.FieldPath("start"), $"'{text}' is not an ISO 8601 date and time");
            return start;
        }

        private int ParseSteps(YamlFields root)
        {
            var given = new[] { "steps", "days", "end" }.Where(root.Has).ToList();
            if (given.Count != 1)
                throw new FieldException(root.FieldPath(given.Count == 0 ? "steps" : given[1]), "give exactly one of steps, days or end");
            double steps = given[0] switch
            {
                "steps" => root.Int("steps", 0),
                "days" => root.RequiredDouble("days") * 1440 / _step.TotalMinutes,
                _ => ParseEnd(root),
            };
            var field = root.FieldPath(given[0]);
            if (Math.Abs(steps - Math.Round(steps)) > 1e-9) throw new FieldException(field, $"must be a whole number of {_step.TotalMinutes}-minute steps");
            if (steps < 1) throw new FieldException(field, "must give at least one step");
            if (steps > 1_000_000) throw new FieldException(field, "more than 1,000,000 steps; use a longer step_minutes");
            return (int)Math.Round(steps);
        }

        private double ParseEnd(YamlFields root)
        {
            var text = root.RequiredString("end");
            if (!ExplicitOffset().IsMatch(text) || !DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.None, out var end))
                throw new FieldException(root.FieldPath("end"), $"'{text}' is not an ISO 8601 date and time with a UTC offset");
            if (end <= _start) throw new FieldException(root.FieldPath("end"), "must be after start");
            return (end - _start) / _step;
        }

        private (SiteSpec, List<PlantSpec>, Dictionary<string, double[]>, double[]) ParseSite(YamlFields s, string defaultRegion)
        {
            var id = s.RequiredString("id");
            var cooling = CoolingModel.ColdClimate;
            if (s.Child("cooling") is { } c)
            {
                cooling = new CoolingModel(c.Double("free_cooling_pue", cooling.FreeCoolingPue), c.Double("mechanical_pue", cooling.MechanicalPue),
                    c.Double("free_cooling_below_celsius", cooling.FreeCoolingBelowCelsius), c.Double("ramp_celsius", cooling.RampCelsius));
                c.RejectUnknown();
            }
            var battery = BatterySpec.None;
            if (s.Child("battery") is { } b)
            {
                battery = new BatterySpec(b.RequiredDouble("capacity_mwh"), b.RequiredDouble("max_charge_mw"), b.RequiredDouble("max_discharge_mw"),
                    b.Double("round_trip_efficiency", 0.88), b.Double("min_soc", 0.1), b.Double("max_soc", 0.95));
                b.RejectUnknown();
            }
            var site = new SiteSpec(id, s.String("region", defaultRegion), s.OptionalInt("gpu_count") ?? throw new FieldException(s.FieldPath("gpu_count"), "is required"),
                s.Double("kw_per_gpu", 1.2), cooling, s.Double("base_load_mw", 0), battery,
                s.RequiredDouble("grid_import_limit_mw"), s.Double("grid_price_cny_per_kwh", 0.45), s.Double("grid_carbon_kg_per_kwh", 0.85));
            _errors.AddRange(MapCoreErrors(s.Path, site.Validate()));

            var plants = new List<PlantSpec>();
            var outputs = new Dictionary<string, double[]>(StringComparer.Ordinal);
            (string Path, YamlFields Source, string Format)? firstFile = null;
            var plantItems = s.Items("plants");
            foreach (var p in plantItems)
            {
                var kind = p.Choice("kind", null, "wind", "solar") == "wind" ? PlantKind.Wind : PlantKind.Solar;
                var plant = new PlantSpec(p.String("id", $"{id}-{kind.ToString().ToLowerInvariant()}"), kind, p.RequiredDouble("nameplate_mw"), id,
                    p.Double("green_price_cny_per_kwh", PlantSpec.DefaultGreenPriceCnyPerKilowattHour));
                var before = _errors.Count;
                _errors.AddRange(MapCoreErrors(p.Path, plant.Validate()));
                var source = p.RequiredChild("source");
                p.RejectUnknown();
                if (_errors.Count > before) continue;
                var (mw, file) = ReadPlantSource(source, plant);
                plants.Add(plant);
                outputs[plant.Id] = mw;
                if (file is not null) firstFile ??= file;
            }

            double[] celsius;
            if (s.Child("temperature") is { } t)
            {
                celsius = ReadTemperature(t);
            }
            else if (firstFile is { } f)
            {
                celsius = ReadTemperatureFrom(f.Source, f.Format, f.Path, heightMetres: null);
            }
            else throw new FieldException(s.FieldPath("temperature"), "is required: no plant of this site reads a file with a temperature column");
            s.RejectUnknown();
            return (site, plants, outputs, celsius);
        }

        private (double[] Megawatts, (string, YamlFields, string)? File) ReadPlantSource(YamlFields src, PlantSpec plant)
        {
            var allowed = plant.Kind == PlantKind.Wind ? new[] { "srw", "constant" } : ["psm3", "stategrid", "constant"];
            var format = src.Choice("format", null, "srw", "psm3", "stategrid", "constant");
            if (!allowed.Contains(format))
                throw new FieldException(src.FieldPath("format"), $"a {plant.Kind.ToString().ToLowerInvariant()} plant reads {string.Join(" or ", allowed)}, not {format}");
            if (format == "constant")
            {
                var cf = src.RequiredDouble("capacity_factor");
                if (!(cf >= 0 && cf <= 1)) throw new FieldException(src.FieldPath("capacity_factor"), "must be in [0, 1]");
                src.RejectUnknown();
                return ([.. Enumerable.Repeat(cf * plant.NameplateMegawatts, _steps)], null);
            }
            var path = ResolvePath(src);
            double[] native;
            ClockSeries clock;
            switch (format)
            {
                case "srw":
                {
                    var file = Read(src, path, SrwFile.Read);
                    var model = new WindPlantModel(ReadCurve(src), src.Double("hub_height_m", 100), src.Bool("density_correction", true), src.Double("losses_fraction", 0.10));
                    if (!(model.HubHeightMetres > 0 && model.HubHeightMetres < 300)) throw new FieldException(src.FieldPath("hub_height_m"), "must be in (0, 300) m");
                    if (!(model.LossesFraction >= 0 && model.LossesFraction < 1)) throw new FieldException(src.FieldPath("losses_fraction"), "must be in [0, 1)");
                    native = Guard(src, () => model.OutputMegawatts(file, plant.NameplateMegawatts));
                    clock = file.Clock;
                    break;
                }
                case "psm3":
                {
                    var file = Read(src, path, Psm3File.Read);
                    var pv = ReadPv(src);
                    var ghi = file.Ghi.Values;
                    native = new double[ghi.Length];
                    for (var i = 0; i < ghi.Length; i++)
                        native[i] = plant.NameplateMegawatts * pv.OutputFraction(ghi[i], file.AirCelsius[i], file.WindMetresPerSecond?[i] ?? PvModel.DefaultWindMetresPerSecond);
                    clock = file.Ghi;
                    break;
                }
                default:
                {
                    var file = Read(src, path, StateGridFile.Read);
                    var mode = src.Choice("mode", "measured", "measured", "irradiance");
                    clock = file.Ghi;
                    native = new double[clock.Count];
                    if (mode == "measured")
                    {
                        var capacity = src.OptionalDouble("station_capacity_mw") ?? file.NominalCapacityMegawatts
                            ?? throw new FieldException(src.FieldPath("station_capacity_mw"), "is required: the file name gives no '_<n>MW_' capacity");
                        if (!(capacity > 0)) throw new FieldException(src.FieldPath("station_capacity_mw"), "must be > 0");
                        var power = file.PowerMegawatts ?? throw new FieldException(src.FieldPath("mode"), "measured needs a 'Power (MW)' column; use mode: irradiance");
                        for (var i = 0; i < native.Length; i++)
                            native[i] = plant.NameplateMegawatts * Math.Clamp(power[i] / capacity, 0, 1);
                    }
                    else
                    {
                        var pv = ReadPv(src);
                        // Total solar irradiance by default: at stations 1 and 2 the GHI column peaks near 400 W/m² (see StateGridFile).
                        var column = src.Choice("irradiance_column", "total", "total", "ghi");
                        var poa = column == "ghi" ? clock.Values : file.TotalIrradiance
                            ?? throw new FieldException(src.FieldPath("irradiance_column"), "the file has no 'Total solar irradiance' column; use ghi");
                        for (var i = 0; i < native.Length; i++)
                            native[i] = plant.NameplateMegawatts * pv.OutputFraction(poa[i], file.AirCelsius[i]);
                    }
                    break;
                }
            }
            var sourceClock = ReadClock(src, format, path);
            src.RejectUnknown();
            var mw = Guard(src, () => SeriesAligner.Resample(clock.With(native), sourceClock, _start, _step, _steps));
            for (var i = 0; i < mw.Length; i++) mw[i] = Math.Clamp(mw[i], 0, plant.NameplateMegawatts);
            return (mw, (path, src, format));
        }

        private double[] ReadTemperature(YamlFields t)
        {
            var format = t.Choice("format", null, "psm3", "srw", "stategrid", "constant");
            if (format == "constant")
            {
                var celsius = t.RequiredDouble("celsius");
                t.RejectUnknown();
                return [.. Enumerable.Repeat(celsius, _steps)];
            }
            var path = ResolvePath(t);
            var height = t.OptionalDouble("height_m");
            var values = ReadTemperatureFrom(t, format, path, height);
            t.RejectUnknown();
            return values;
        }

        private double[] ReadTemperatureFrom(YamlFields src, string format, string path, double? heightMetres)
        {
            ClockSeries series;
            switch (format)
            {
                case "srw":
                {
                    var file = Read(src, path, SrwFile.Read);
                    var heights = file.HeightsOf("Temperature");
                    if (heights.Count == 0) throw new FieldException(src.FieldPath("path"), "the srw file has no Temperature column");
                    // The lowest height is closest to the air a data centre's coolers see; the files start at 80 m.
                    var h = heightMetres ?? heights[0];
                    if (!heights.Contains(h)) throw new FieldException(src.FieldPath("height_m"), $"the file has temperature at {string.Join(", ", heights)} m only");
                    series = file.Clock.With(file.Column("Temperature", h));
                    break;
                }
                case "psm3":
                {
                    var file = Read(src, path, Psm3File.Read);
                    series = file.Ghi.With(file.AirCelsius);
                    break;
                }
                default:
                {
                    var file = Read(src, path, StateGridFile.Read);
                    series = file.Ghi.With(file.AirCelsius);
                    break;
                }
            }
            var clock = ReadClock(src, format, path);
            return Guard(src, () => SeriesAligner.Resample(series, clock, _start, _step, _steps));
        }

        private SourceClock ReadClock(YamlFields src, string format, string path)
        {
            var offset = src.OptionalDouble("utc_offset_hours") ?? format switch
            {
                "psm3" => Read(src, path, Psm3File.Read).UtcOffsetHours,
                "stategrid" => StateGridFile.DefaultUtcOffsetHours,
                "srw" when Read(src, path, SrwFile.Read).Longitude is var lon && double.IsFinite(lon) => Math.Round(lon / 15),
                _ => null,
            } ?? throw new FieldException(src.FieldPath("utc_offset_hours"), "is required: the file does not give its time zone");
            if (!(offset >= -14 && offset <= 14)) throw new FieldException(src.FieldPath("utc_offset_hours"), "must be in [-14, 14]");
            var year = src.OptionalInt("source_year");
            return new SourceClock(TimeSpan.FromHours(offset), year);
        }

        private static TurbinePowerCurve ReadCurve(YamlFields src)
        {
            if (src.Child("turbine") is not { } t) return TurbinePowerCurve.Generic3600Kilowatt;
            var points = t.Pairs("curve");
            var cutOut = t.Double("cut_out_mps", TurbinePowerCurve.Generic3600Kilowatt.CutOutMetresPerSecond);
            t.RejectUnknown();
            if (points.Count == 0) points = TurbinePowerCurve.Generic3600Kilowatt.Points;
            var errors = TurbinePowerCurve.Validate(points, cutOut);
            if (errors.Count > 0) throw new FieldException(t.FieldPath(errors[0].Split(':')[0]), errors[0][(errors[0].IndexOf(':') + 2)..]);
            return new TurbinePowerCurve(points, cutOut);
        }

        private static PvModel ReadPv(YamlFields src)
        {
            var d = PvModel.Default;
            var pv = new PvModel(src.Double("dc_ac_ratio", d.DcAcRatio), src.Double("system_losses_fraction", d.SystemLossesFraction),
                src.Double("inverter_efficiency", d.InverterEfficiency), src.Double("temperature_coefficient_per_celsius", d.TemperatureCoefficientPerCelsius),
                src.Double("faiman_u0", d.FaimanU0), src.Double("faiman_u1", d.FaimanU1));
            var errors = pv.Validate();
            if (errors.Count > 0) throw new FieldException(src.FieldPath(errors[0].Split(':')[0]), errors[0][(errors[0].IndexOf(':') + 2)..]);
            return pv;
        }

        private string ResolvePath(YamlFields src)
        {
            var path = src.RequiredString("path");
            if (Path.IsPathRooted(path))
                return File.Exists(path) ? path : throw new FieldException(src.FieldPath("path"), $"file not found: {path}");
            var tried = new List<string> { Path.GetFullPath(Path.Combine(baseDirectory, path)) };
            tried.AddRange(options.DataSearchPaths.Select(d => Path.GetFullPath(Path.Combine(d, path))));
            foreach (var candidate in tried)
                if (File.Exists(candidate)) return candidate;
            throw new FieldException(src.FieldPath("path"), $"file not found: {path} (looked in {string.Join(", ", tried)})");
        }

        private T Read<T>(YamlFields src, string path, Func<string, T> reader) where T : class
        {
            var key = typeof(T).Name + "|" + path;
            if (_files.TryGetValue(key, out var cached)) return (T)cached;
            var value = Guard(src, () => reader(path));
            _files[key] = value;
            return value;
        }

        /// <summary>Turns a data-file problem into an error on the field that named the file.</summary>
        private static T Guard<T>(YamlFields src, Func<T> read)
        {
            try
            {
                return read();
            }
            catch (Exception e) when (e is FormatException or IOException or ArgumentException or InvalidDataException or IndexOutOfRangeException)
            {
                throw new FieldException(src.FieldPath("path"), e.Message, e);
            }
        }

        private static List<LinkSpec> ParseLinks(YamlFields root, List<SiteSpec> sites)
        {
            var links = new List<LinkSpec>();
            foreach (var l in root.Items("links"))
            {
                var a = l.RequiredString("site_a");
                var b = l.RequiredString("site_b");
                var gbps = l.RequiredDouble("bandwidth_gbps");
                l.RejectUnknown();
                if (sites.All(s => s.Id != a)) throw new FieldException(l.FieldPath("site_a"), $"unknown site '{a}'");
                if (sites.All(s => s.Id != b)) throw new FieldException(l.FieldPath("site_b"), $"unknown site '{b}'");
                if (a == b) throw new FieldException(l.FieldPath("site_b"), "a link joins two different sites");
                if (!(gbps > 0)) throw new FieldException(l.FieldPath("bandwidth_gbps"), "must be > 0");
                if (links.Any(x => x.Connects(a, b))) throw new FieldException(l.Path, $"a second link between {a} and {b}");
                links.Add(new LinkSpec(a, b, gbps));
            }
            return links;
        }

        private List<JobSpec> ParseWorkload(YamlFields root, List<SiteSpec> sites)
        {
            var end = _start + _step * _steps;
            var all = new List<JobSpec>();
            var ids = new HashSet<string>(StringComparer.Ordinal);
            foreach (var w in root.Items("workload"))
            {
                var kind = w.Choice("kind", null, "synthetic", "alibaba", "azure_llm");
                var jobs = kind switch
                {
                    "synthetic" => Synthetic(w, sites, end),
                    "alibaba" => Alibaba(w, end),
                    _ => Azure(w, sites),
                };
                w.RejectUnknown();
                foreach (var job in jobs)
                {
                    if (!ids.Add(job.Id)) throw new FieldException(w.Path, $"duplicate job id '{job.Id}' (give each workload its own id_prefix)");
                    var invalid = job.Validate();
                    if (invalid.Count > 0) throw new FieldException(w.Path, $"job {job.Id} is invalid: {string.Join("; ", invalid)}");
                    var room = sites.Where(s => job.AllowsSite(s.Id)).Select(s => s.GpuCount).DefaultIfEmpty(0).Max();
                    if (job.Gpus > room) throw new FieldException(w.Path, $"job {job.Id} needs {job.Gpus} GPUs but its largest allowed site has {room}: its deadline could never be met");
                }
                all.AddRange(jobs);
            }
            return ScenarioJobs.Sort(all);
        }

        private List<JobSpec> Synthetic(YamlFields w, List<SiteSpec> sites, DateTimeOffset end)
        {
            var d = new SyntheticWorkloadOptions();
            var count = w.OptionalInt("count");
            var perDay = w.OptionalDouble("jobs_per_day");
            if ((count is null) == (perDay is null)) throw new FieldException(w.FieldPath("count"), "give exactly one of count or jobs_per_day");
            if (perDay is < 0) throw new FieldException(w.FieldPath("jobs_per_day"), "must be >= 0");
            var gpuTable = w.NumberTable("gpus");
            var gpus = new List<(int, double)>();
            foreach (var (key, weight) in gpuTable)
            {
                if (!int.TryParse(key, NumberStyles.Integer, CultureInfo.InvariantCulture, out var g))
                    throw new FieldException($"{w.FieldPath("gpus")}.{key}", "keys are GPU counts (whole numbers)");
                gpus.Add((g, weight));
            }
            var o = new SyntheticWorkloadOptions
            {
                Seed = w.OptionalLong("seed") ?? throw new FieldException(w.FieldPath("seed"), "is required (it makes the jobs reproducible)"),
                Count = count ?? (int)Math.Round(perDay!.Value * (end - _start).TotalDays),
                IdPrefix = w.String("id_prefix", d.IdPrefix),
                Tenants = w.Has("tenants") ? w.Strings("tenants") : d.Tenants,
                DiurnalAmplitude = w.Double("diurnal_amplitude", d.DiurnalAmplitude),
                DiurnalPeakHour = w.Double("diurnal_peak_hour", d.DiurnalPeakHour),
                DiurnalClockUtcOffset = _clockOffset,
                GpuWeights = gpus.Count > 0 ? gpus : d.GpuWeights,
                DurationMedianHours = w.Double("duration_median_hours", d.DurationMedianHours),
                DurationSigma = w.Double("duration_sigma", d.DurationSigma),
                DurationMinHours = w.Double("duration_min_hours", d.DurationMinHours),
                DurationMaxHours = w.Double("duration_max_hours", d.DurationMaxHours),
                InterruptibleShare = w.Double("interruptible_share", d.InterruptibleShare),
                RelocatableShare = w.Double("relocatable_share", d.RelocatableShare),
                CheckpointGigabytesPerGpu = w.Double("checkpoint_gb_per_gpu", d.CheckpointGigabytesPerGpu),
                SlackMin = w.Double("slack_min", d.SlackMin),
                SlackMax = w.Double("slack_max", d.SlackMax),
                AllowedSites = w.Strings("allowed_sites"),
            };
            foreach (var (field, reason) in o.Validate()) throw new FieldException(w.FieldPath(field), reason);
            CheckSites(w, "allowed_sites", o.AllowedSites, sites);
            return SyntheticWorkload.Generate(o, _start, end);
        }

        private List<JobSpec> Alibaba(YamlFields w, DateTimeOffset end)
        {
            var d = new AlibabaWorkloadOptions();
            var path = ResolvePath(w);
            var o = new AlibabaWorkloadOptions
            {
                TimeScale = w.Double("time_scale", d.TimeScale),
                TraceOffsetHours = w.Double("trace_offset_hours", d.TraceOffsetHours),
                DurationScale = w.Double("duration_scale", d.DurationScale),
                DeadlineSlack = w.Double("deadline_slack", d.DeadlineSlack),
                CheckpointGigabytesPerGpu = w.Double("checkpoint_gb_per_gpu", d.CheckpointGigabytesPerGpu),
                Tenant = w.String("tenant", d.Tenant),
                IdPrefix = w.String("id_prefix", d.IdPrefix),
                IncludePending = w.Bool("include_pending", d.IncludePending),
            };
            foreach (var (field, reason) in o.Validate()) throw new FieldException(w.FieldPath(field), reason);
            var pods = Read(w, path, AlibabaPodList.Read);
            return AlibabaPodList.ToJobs(pods, o, _start, end);
        }

        private List<JobSpec> Azure(YamlFields w, List<SiteSpec> sites)
        {
            var d = new AzureInferenceOptions { SiteId = "" };
            var path = ResolvePath(w);
            var o = new AzureInferenceOptions
            {
                SiteId = w.RequiredString("site"),
                LoadScale = w.Double("load_scale", d.LoadScale),
                TimeScale = w.Double("time_scale", d.TimeScale),
                OffsetMinutes = w.Double("offset_minutes", d.OffsetMinutes),
                GeneratedTokensPerGpuSecond = w.Double("tokens_per_gpu_second", d.GeneratedTokensPerGpuSecond),
                PrefillCostRatio = w.Double("prefill_cost_ratio", d.PrefillCostRatio),
                Tenant = w.String("tenant", d.Tenant),
                IdPrefix = w.String("id_prefix", d.IdPrefix),
            };
            foreach (var (field, reason) in o.Validate()) throw new FieldException(w.FieldPath(field), reason);
            CheckSites(w, "site", [o.SiteId], sites);
            var trace = Read(w, path, AzureLlmTrace.Read);
            return AzureInference.ToPinnedJobs(trace, o, _start, _step, _steps);
        }

        private static void CheckSites(YamlFields w, string field, IEnumerable<string> ids, List<SiteSpec> sites)
        {
            foreach (var id in ids)
                if (sites.All(s => s.Id != id)) throw new FieldException(w.FieldPath(field), $"unknown site '{id}'");
        }
    }

    [GeneratedRegex(@"(Z|[+-]\d{2}:?\d{2})$", RegexOptions.IgnoreCase)]
    private static partial Regex ExplicitOffset();
}
