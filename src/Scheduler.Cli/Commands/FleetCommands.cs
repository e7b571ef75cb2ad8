namespace Scheduler.Cli.Commands;

using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;
using Scheduler.Api.V1;
using Spectre.Console;

/// <summary>fleet, plants, report: the operator's view of power, plants and energy.</summary>
internal static class FleetCommands
{
    private static readonly TimeSpan WatchInterval = TimeSpan.FromSeconds(2);

    public static void AddTo(RootCommand root)
    {
        root.Add(Fleet());
        root.Add(Plants());
        root.Add(Report());
    }

    private static Command Fleet()
    {
        var watch = new Option<bool>("--watch") { Description = "Refresh every 2 s until Ctrl+C" };
        var command = new Command("fleet", "Show every site's live power balance, battery, grid and GPUs") { watch };
        command.SetBody(async (parse, s) =>
        {
            var fleet = await s.Fleet.GetFleetAsync(new GetFleetRequest(), s.Unary);
            if (!parse.GetValue(watch))
            {
                if (s.Json) Output.Json(fleet);
                else Output.Terminal.Write(FleetTable(fleet));
                return;
            }
            if (s.Json)
            {
                // One fleet per line, so a script can follow the refreshes.
                while (true)
                {
                    Output.JsonLine(fleet);
                    await Task.Delay(WatchInterval, s.Cancel);
                    fleet = await s.Fleet.GetFleetAsync(new GetFleetRequest(), s.Unary);
                }
            }
            await Output.Terminal.Live(FleetTable(fleet)).StartAsync(async live =>
            {
                while (true)
                {
                    await Task.Delay(WatchInterval, s.Cancel);
                    fleet = await s.Fleet.GetFleetAsync(new GetFleetRequest(), s.Unary);
                    live.UpdateTarget(FleetTable(fleet));
                    live.Refresh();
                }
            });
        });
        return command;
    }

    private static Table FleetTable(Api.V1.Fleet fleet)
    {
        var table = Output.Table("site", "region", ">green MW", ">load MW", ">surplus MW", ">battery MW", ">SoC", ">grid import MW", ">curtailed MW", ">export MW", ">GPUs used", ">jobs", "executor")
            .Title($"fleet at {Output.Time(fleet.Time)} (scheduler time)")
            .Caption("battery: + discharging, - charging; export is always 0");
        foreach (var x in fleet.Sites)
            table.Row(x.Site.Id, x.Site.Region, Output.Num(x.GreenSupplyMw), Output.Num(x.LoadMw), Output.Signed(x.SurplusMw), Output.Signed(x.BatteryMw),
                $"{Output.Num(x.StateOfChargeFraction * 100, 0)} % / {Output.Num(x.StateOfChargeMwh)} MWh", Output.Num(x.GridImportMw),
                Output.Num(x.CurtailmentMw), Output.Num(x.ExportMw), $"{x.UsedGpus}/{x.Site.GpuCount}", x.Jobs.Count.ToString(CultureInfo.InvariantCulture),
                x.Executor.Length == 0 ? "clock" : x.Executor);
        var sites = fleet.Sites;
        table.Row("total", "", Output.Num(sites.Sum(x => x.GreenSupplyMw)), Output.Num(sites.Sum(x => x.LoadMw)), Output.Signed(sites.Sum(x => x.SurplusMw)),
            Output.Signed(sites.Sum(x => x.BatteryMw)), $"{Output.Num(sites.Sum(x => x.StateOfChargeMwh))} MWh", Output.Num(sites.Sum(x => x.GridImportMw)),
            Output.Num(sites.Sum(x => x.CurtailmentMw)), Output.Num(sites.Sum(x => x.ExportMw)), $"{sites.Sum(x => x.UsedGpus)}/{sites.Sum(x => x.Site.GpuCount)}",
            sites.Sum(x => x.Jobs.Count).ToString(CultureInfo.InvariantCulture), "");
        return table;
    }

    private static Command Plants()
    {
        var site = new Option<string>("--site") { Description = "Only this site's plants" };
        var command = new Command("plants", "List plants with their latest reported output") { site };
        command.SetBody(async (parse, s) =>
        {
            // ListPlants has no outputs and GetFleet's plants have no outputs either: the latest sample lives in each site's status.
            var plantsCall = s.Fleet.ListPlantsAsync(new ListPlantsRequest { SiteId = parse.GetValue(site) ?? "" }, s.Unary);
            var fleetCall = s.Fleet.GetFleetAsync(new GetFleetRequest(), s.Unary);
            var plants = await plantsCall;
            var latest = (await fleetCall).Sites.SelectMany(x => x.Plants).ToDictionary(o => o.PlantId, StringComparer.Ordinal);
            if (s.Json)
            {
                var array = new JsonArray();
                foreach (var p in plants.Plants)
                    array.Add(new JsonObject
                    {
                        ["plant"] = JsonNode.Parse(Output.JsonText(p)),
                        ["latest"] = latest.TryGetValue(p.Id, out var o) ? JsonNode.Parse(Output.JsonText(o)) : null,
                    });
                Console.WriteLine(new JsonObject { ["plants"] = array }.ToJsonString(new() { WriteIndented = true }));
                return;
            }
            var table = Output.Table("plant", "kind", ">nameplate MW", "site", ">latest MW", "time", "stale");
            foreach (var p in plants.Plants)
            {
                var o = latest.GetValueOrDefault(p.Id);
                table.Row(p.Id, p.Kind.ToString().ToLowerInvariant(), Output.Num(p.NameplateMw), p.SiteId, o is null ? "-" : Output.Num(o.Megawatts),
                    Output.Time(o?.Time), o is null ? "-" : o.Stale ? "yes" : "no");
            }
            Output.Terminal.Write(table);
        });
        return command;
    }

    private static Command Report()
    {
        var command = new Command("report", "Energy, cost, carbon and tokens per tenant and per site");
        command.SetBody(async (parse, s) =>
        {
            var report = await s.Fleet.GetEnergyReportAsync(new GetEnergyReportRequest(), s.Unary);
            if (s.Json) { Output.Json(report); return; }
            Output.Terminal.Write(EnergyTable("tenant", report.Tenants, report.TotalJobs).Title("by tenant (job energy)"));
            Output.Terminal.WriteLine();
            Output.Terminal.Write(EnergyTable("site", report.Sites, report.TotalSites).Title("by site (all energy, incl. base load and cooling)"));
        });
        return command;
    }

    private static Table EnergyTable(string key, IEnumerable<EnergyLine> lines, EnergyLedger? total)
    {
        var table = Output.Table(key, ">green MWh", ">battery MWh", ">grid MWh", ">curtailed MWh", ">green share", ">cost CNY", ">CO2 kg", ">tokens/kWh");
        void Add(string name, EnergyLedger l) => table.Row(name, Output.Num(l.GreenMwh, 2), Output.Num(l.BatteryMwh, 2), Output.Num(l.GridMwh, 2),
            Output.Num(l.CurtailedMwh, 2), Output.Percent(l.GreenShare), Output.Num(l.CostCny, 0), Output.Num(l.Co2EmittedKg, 0), Output.Num(l.TokensPerKwh, 0));
        foreach (var line in lines) Add(line.Key, line.Ledger ?? new EnergyLedger());
        Add("total", total ?? new EnergyLedger());
        return table;
    }
}
