namespace Scheduler.Scenarios.Tests;

using Scheduler.Core.Model;

public sealed class ScenarioLoaderTests
{
    /// <summary>A small valid scenario on constant sources; each error case below changes one line of it.</summary>
    private const string Valid = """
        name: tiny
        start: 2013-01-01T00:00:00-07:00
        days: 2
        step_minutes: 60
        sites:
          - id: a
            gpu_count: 100
            base_load_mw: 1
            grid_import_limit_mw: 5
            battery: { capacity_mwh: 4, max_charge_mw: 1, max_discharge_mw: 1 }
            temperature: { format: constant, celsius: 5 }
            plants:
              - { id: a-wind, kind: wind, nameplate_mw: 10, source: { format: constant, capacity_factor: 0.4 } }
          - id: b
            gpu_count: 50
            grid_import_limit_mw: 5
            temperature: { format: constant, celsius: 20 }
            plants:
              - { id: b-solar, kind: solar, nameplate_mw: 4, source: { format: constant, capacity_factor: 0.2 } }
        links:
          - { site_a: a, site_b: b, bandwidth_gbps: 10 }
        workload:
          - { kind: synthetic, seed: 5, count: 30, gpus: { 8: 1 } }
        """;

    private static LoadedScenario Load(string yaml) => ScenarioLoader.LoadYaml(yaml, AppContext.BaseDirectory, "tiny.yaml");

    [Fact]
    public void LoadYaml_BuildsTheScenario_FromAValidFile()
    {
        var s = Load(Valid);

        Assert.Equal("tiny", s.Name);
        Assert.Equal(new DateTimeOffset(2013, 1, 1, 7, 0, 0, TimeSpan.Zero), s.Start);
        Assert.Equal(48, s.Steps);
        Assert.Equal(["a", "b"], s.Sites.Select(x => x.Id));
        Assert.Equal("tiny", s.Sites[0].Region); // defaults to the scenario name
        Assert.Equal(CoolingModel.ColdClimate, s.Sites[0].Cooling);
        Assert.Equal(new BatterySpec(4, 1, 1, 0.88, 0.1, 0.95), s.Sites[0].Battery);
        Assert.Equal(BatterySpec.None, s.Sites[1].Battery);
        Assert.Equal(1.2, s.Sites[0].KilowattsPerGpu);
        Assert.All(s.PlantMegawatts["a-wind"], mw => Assert.Equal(4, mw, 12));
        Assert.All(s.SiteCelsius["b"], c => Assert.Equal(20, c));
        Assert.Equal(new LinkSpec("a", "b", 10), Assert.Single(s.Links));
        Assert.Equal(30, s.Jobs.Count);
        Assert.All(s.Jobs, j => Assert.Equal(8, j.Gpus));
    }

    [Theory]
    [InlineData("battery: { capacity_mwh: 4,", "battery: { capacity_mwh: -4,", "sites[0].battery.capacity_mwh", "must be within [0, ")]
    [InlineData("battery: { capacity_mwh: 4,", "battery: { capacity_mwh: lots,", "sites[0].battery.capacity_mwh", "not a finite number")]
    [InlineData("gpu_count: 50", "gpu_count: -1", "sites[1].gpu_count", "must be within [0, ")]
    [InlineData("    gpu_count: 50\n", "", "sites[1].gpu_count", "is required")]
    [InlineData("nameplate_mw: 4,", "nameplate_mw: 0,", "sites[1].plants[0].nameplate_mw", "must be > 0")]
    [InlineData("capacity_factor: 0.2", "capacity_factor: 1.2", "sites[1].plants[0].source.capacity_factor", "[0, 1]")]
    [InlineData("kind: solar", "kind: hydro", "sites[1].plants[0].kind", "not one of")]
    [InlineData("{ format: constant, capacity_factor: 0.2 }", "{ format: srw, path: x.srw }", "sites[1].plants[0].source.format", "a solar plant reads")]
    [InlineData("{ format: constant, capacity_factor: 0.4 }", "{ format: srw, path: missing.srw }", "sites[0].plants[0].source.path", "file not found")]
    [InlineData("base_load_mw: 1", "base_lod_mw: 1", "sites[0].base_lod_mw", "unknown field")]
    [InlineData("start: 2013-01-01T00:00:00-07:00", "start: 2013-01-01T00:00:00", "start", "needs a UTC offset")]
    [InlineData("days: 2", "days: 2\nsteps: 48", "days", "exactly one of")]
    [InlineData("step_minutes: 60", "step_minutes: 0", "step_minutes", "must be > 0")]
    [InlineData("days: 2", "days: 0.01", "days", "whole number")]
    [InlineData("site_b: b,", "site_b: c,", "links[0].site_b", "unknown site 'c'")]
    [InlineData("bandwidth_gbps: 10", "bandwidth_gbps: 0", "links[0].bandwidth_gbps", "must be > 0")]
    [InlineData("seed: 5, ", "", "workload[0].seed", "is required")]
    [InlineData("gpus: { 8: 1 }", "gpus: { 800: 1 }", "workload[0]", "largest allowed site has 100")]
    [InlineData("count: 30,", "count: 30, slack_min: 0.5,", "workload[0].slack_min", "must be >= 1")]
    [InlineData("kind: synthetic,", "kind: magic,", "workload[0].kind", "not one of")]
    [InlineData("- id: b", "- id: a", "sites[1].id", "duplicate site id")]
    public void LoadYaml_NamesTheField_OfEachError(string find, string replace, string field, string reason)
    {
        Assert.Contains(find, Valid);
        var e = Assert.Throws<ScenarioLoadException>(() => Load(Valid.Replace(find, replace, StringComparison.Ordinal)));

        Assert.Contains(e.Errors, x => x.Field == field && x.Reason.Contains(reason, StringComparison.Ordinal));
        Assert.StartsWith("tiny.yaml: ", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void LoadYaml_ReportsEveryCoreValidationError_AtOnce()
    {
        var yaml = Valid.Replace("capacity_mwh: 4, max_charge_mw: 1,", "capacity_mwh: -4, max_charge_mw: -1,", StringComparison.Ordinal)
            .Replace("gpu_count: 50", "gpu_count: -5", StringComparison.Ordinal);
        var e = Assert.Throws<ScenarioLoadException>(() => Load(yaml));

        Assert.Equal(["sites[0].battery.capacity_mwh", "sites[0].battery.max_charge_mw", "sites[1].gpu_count"], e.Errors.Select(x => x.Field));
        Assert.Contains("sites[0].battery.capacity_mwh: must be within [0, 1000000]", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void LoadYaml_RejectsInvalidYaml_WithItsLine()
    {
        var e = Assert.Throws<ScenarioLoadException>(() => Load("name: x\nsites: [\n"));
        Assert.Contains("not valid YAML", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void LoadYaml_ResolvesRelativePaths_AgainstTheScenarioFolder_ThenSearchPaths()
    {
        var dir = Directory.CreateTempSubdirectory("scenario-test");
        try
        {
            File.Copy(TestData.Bundled("41.939_-106.37_psmv3_60_2013.csv.gz"), Path.Combine(dir.FullName, "solar.csv.gz"));
            var yaml = Valid.Replace("{ format: constant, capacity_factor: 0.2 }", "{ format: psm3, path: solar.csv.gz }", StringComparison.Ordinal);
            File.WriteAllText(Path.Combine(dir.FullName, "mine.yaml"), yaml);

            var s = ScenarioLoader.Load(Path.Combine(dir.FullName, "mine.yaml"));
            Assert.Equal(48, s.PlantMegawatts["b-solar"].Length);
            Assert.Equal(0, s.PlantMegawatts["b-solar"][0]); // midnight in Wyoming

            var elsewhere = Valid.Replace("{ format: constant, capacity_factor: 0.2 }", "{ format: psm3, path: solar.csv.gz }", StringComparison.Ordinal);
            var viaSearch = ScenarioLoader.LoadYaml(elsewhere, AppContext.BaseDirectory, options: new ScenarioLoadOptions { DataSearchPaths = [dir.FullName] });
            Assert.Equal(s.PlantMegawatts["b-solar"], viaSearch.PlantMegawatts["b-solar"]);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Fact]
    public void ScenarioCatalog_Resolve_ListsTheShippedNames_WhenUnknown()
    {
        var e = Assert.Throws<ScenarioLoadException>(() => ScenarioCatalog.Resolve("atlantis"));
        Assert.Contains("inner-mongolia, great-plains, winter-stress", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ScenarioCatalog_Resolve_AcceptsNamesWithOrWithoutExtension()
    {
        Assert.Equal(ScenarioCatalog.Resolve("great-plains"), ScenarioCatalog.Resolve("great-plains.yaml"));
        Assert.True(File.Exists(ScenarioCatalog.Resolve("winter-stress")));
    }
}
