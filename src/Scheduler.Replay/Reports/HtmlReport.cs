namespace Scheduler.Replay.Reports;

using System.Globalization;
using System.Net;
using System.Text;
using ScottPlot;
using Scheduler.Core.Model;

/// <summary>What goes into the HTML report beyond the <see cref="ReplayReport"/> itself.</summary>
public sealed class HtmlReportOptions
{
    /// <summary>The scenario's jobs, to weigh stints by GPUs; without them the placement plot counts jobs. Default: null.</summary>
    public IReadOnlyList<JobSpec>? Jobs { get; set; }

    /// <summary>
    /// Site id → GPUs busy at each step under the optimum (<c>OptimumSolution.GpusRunning</c>); the optimum has no stints,
    /// so without this it is left out of the placement plot. Default: null.
    /// </summary>
    public IReadOnlyDictionary<string, double[]>? OptimumGpusRunning { get; set; }

    /// <summary>Most points per plotted series; longer series are averaged over buckets of whole hours or days. Default: 400 (a year of hours plots as daily means).</summary>
    public int MaxPointsPerSeries { get; set; } = 400;

    /// <summary>Jobs drawn individually in the placement strip (an even sample by id). Default: 40.</summary>
    public int SampledJobs { get; set; } = 40;

    /// <summary>Width of every plot, pixels. Default: 1000.</summary>
    public int PlotWidthPixels { get; set; } = 1000;
}

/// <summary>
/// The report as one self-contained HTML file: the scoreboard on top, then per site its generation, load, battery state
/// of charge, grid import and curtailment with the policies compared, then where jobs ran (GPUs busy per site, stacked,
/// per policy, and a strip of sampled jobs). Plots are ScottPlot PNGs embedded as base64.
/// </summary>
public static class HtmlReport
{
    private const int PanelHeightPixels = 260;

    /// <summary>Renders the report as an HTML document.</summary>
    public static string Render(ReplayReport report, HtmlReportOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(report);
        options ??= new HtmlReportOptions();
        var policies = ReplayScoring.Ordered(report);
        var steps = policies.SelectMany(p => p.Sites).Select(s => s.GreenMegawatts.Length).DefaultIfEmpty(0).Max();
        var bucket = Bucket.For(report.Step, steps, options.MaxPointsPerSeries);
        var html = new StringBuilder();
        html.Append("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>")
            .Append(Encode($"Replay: {report.Scenario}")).Append("</title><style>")
            .Append("body{font-family:system-ui,sans-serif;margin:2em;color:#222;max-width:1100px}table{border-collapse:collapse;margin:1em 0}")
            .Append("th,td{border:1px solid #ccc;padding:.25em .6em}td.n{text-align:right;font-variant-numeric:tabular-nums}")
            .Append("th{background:#f3f3f3}img{display:block;margin:.5em 0;max-width:100%}.note{color:#666;font-size:.9em}")
            .Append("</style></head><body>");
        html.Append("<h1>").Append(Encode(report.Scenario)).Append("</h1><p>")
            .Append(Encode(Invariant($"{report.From:yyyy-MM-dd HH:mm} → {report.To:yyyy-MM-dd HH:mm} UTC, step {report.Step:c}, {report.Jobs:N0} jobs, replay took {report.ElapsedSeconds:N1} s.")))
            .Append("</p>");

        AppendScoreboard(html, report, policies);
        html.Append("<p class=\"note\">").Append(Encode(bucket.Describe())).Append("</p>");

        var siteIds = policies.SelectMany(p => p.Sites).Select(s => s.SiteId).Distinct(StringComparer.Ordinal).ToList();
        foreach (var siteId in siteIds)
        {
            html.Append("<section class=\"site\" id=\"site-").Append(Encode(siteId)).Append("\"><h2>Site ").Append(Encode(siteId)).Append("</h2>");
            var series = policies.Select(p => (p.Policy, Series: p.Sites.FirstOrDefault(s => s.SiteId == siteId))).Where(x => x.Series is not null)
                .Select(x => (x.Policy, Series: x.Series!)).ToList();
            AppendImage(html, $"{siteId}: generation and load", SiteEnergyPlot(report, bucket, series, options), options.PlotWidthPixels);
            AppendImage(html, $"{siteId}: battery state of charge", PolicyLinesPlot(report, bucket, series, s => s.StateOfChargeFraction, 100, "Battery state of charge", "%", options), options.PlotWidthPixels);
            AppendImage(html, $"{siteId}: grid import", PolicyLinesPlot(report, bucket, series, s => s.GridImportMegawatts, 1, "Grid import", "MW", options), options.PlotWidthPixels);
            AppendImage(html, $"{siteId}: curtailment", PolicyLinesPlot(report, bucket, series, s => s.CurtailmentMegawatts, 1, "Curtailment", "MW", options), options.PlotWidthPixels);
            html.Append("</section>");
        }

        html.Append("<section id=\"placement\"><h2>Where jobs ran</h2><p class=\"note\">")
            .Append(options.Jobs is null ? "Jobs running per site (no job specs given, so jobs are counted, not GPUs)." : "GPUs busy per site, stacked.")
            .Append(" The optimum's GPUs are fractional and it has no stints; it is shown when its GPU series is given.</p>");
        foreach (var policy in policies)
        {
            var busy = policy.Policy == Policies.Optimum && options.OptimumGpusRunning is { } optimumGpus
                ? siteIds.Select(id => (id, optimumGpus.TryGetValue(id, out var s) ? s : new double[steps])).ToList()
                : policy.Stints.Count > 0 ? BusyFromStints(policy, siteIds, steps, options.Jobs) : null;
            if (busy is null) continue;
            AppendImage(html, $"{policy.Policy}: GPUs per site", StackedPlot(report, bucket, busy, $"{policy.Policy}: {(options.Jobs is null && policy.Policy != Policies.Optimum ? "jobs" : "GPUs")} running per site"), options.PlotWidthPixels);
        }
        var strip = policies.FirstOrDefault(p => p.Policy == Policies.Scheduler && p.Stints.Count > 0) ?? policies.FirstOrDefault(p => p.Stints.Count > 0);
        if (strip is not null)
        {
            html.Append("<h3>").Append(Encode($"{strip.Policy}: a sample of jobs, coloured by site")).Append("</h3>");
            AppendImage(html, $"{strip.Policy}: sampled jobs", JobStripPlot(report, strip, siteIds, options), options.PlotWidthPixels);
        }
        html.Append("</section></body></html>");
        return html.ToString();
    }

    /// <summary>Writes the report to a file (UTF-8).</summary>
    public static void Write(ReplayReport report, string path, HtmlReportOptions? options = null) =>
        File.WriteAllText(path, Render(report, options), Encoding.UTF8);

    private static void AppendScoreboard(StringBuilder html, ReplayReport report, IReadOnlyList<PolicyResult> policies)
    {
        html.Append("<table id=\"scoreboard\"><tr><th>figure</th><th>unit</th>");
        foreach (var p in policies) html.Append("<th>").Append(Encode(p.Policy)).Append("</th>");
        html.Append("</tr>");
        foreach (var row in ScoreboardRow.All)
        {
            html.Append("<tr><td>").Append(Encode(row.Label)).Append("</td><td>").Append(Encode(row.Unit)).Append("</td>");
            foreach (var p in policies) html.Append("<td class=\"n\">").Append(Encode(row.Text(p.Scoreboard))).Append("</td>");
            html.Append("</tr>");
        }
        html.Append("</table><p><b>Ratio to optimum</b> (ours ÷ optimum, green used): ").Append(ScoreboardRow.Ratio(report.RatioToOptimum))
            .Append(" &nbsp; <b>Captured gain</b> ((ours − agnostic) ÷ (optimum − agnostic)): ").Append(ScoreboardRow.Ratio(report.CapturedGain)).Append("</p>");
    }

    private static void AppendImage(StringBuilder html, string alt, Plot plot, int widthPixels)
    {
        using (plot)
        {
            var png = plot.GetImageBytes(widthPixels, PanelHeightPixels, ImageFormat.Png);
            html.Append("<img alt=\"").Append(Encode(alt)).Append("\" src=\"data:image/png;base64,").Append(Convert.ToBase64String(png)).Append("\">");
        }
    }

    private static Plot NewPlot(string title, string unit, HtmlReportOptions options)
    {
        var plot = new Plot();
        plot.Axes.DateTimeTicksBottom();
        plot.Title(title, 14);
        plot.YLabel(unit, 12);
        return plot;
    }

    private static Plot SiteEnergyPlot(ReplayReport report, Bucket bucket, IReadOnlyList<(string Policy, SiteSeries Series)> series, HtmlReportOptions options)
    {
        var plot = NewPlot("Generation (filled) and load per policy", "MW", options);
        if (series.Count == 0) return plot;
        var xs = bucket.Times(report.From);
        var green = bucket.Means(series[0].Series.GreenMegawatts, 1);
        var fill = plot.Add.FillY(xs, new double[xs.Length], green);
        fill.FillStyle.Color = Colors.Green.WithAlpha(0.25);
        fill.LineStyle.Width = 0;
        fill.LegendText = "generation";
        foreach (var (policy, s) in series) AddLine(plot, xs, bucket.Means(s.LoadMegawatts, 1), $"load, {policy}", policy);
        plot.ShowLegend(Alignment.UpperRight);
        return plot;
    }

    private static Plot PolicyLinesPlot(ReplayReport report, Bucket bucket, IReadOnlyList<(string Policy, SiteSeries Series)> series,
        Func<SiteSeries, double[]> select, double scale, string title, string unit, HtmlReportOptions options)
    {
        var plot = NewPlot(title, unit, options);
        var xs = bucket.Times(report.From);
        foreach (var (policy, s) in series) AddLine(plot, xs, bucket.Means(select(s), scale), policy, policy);
        plot.ShowLegend(Alignment.UpperRight);
        return plot;
    }

    private static void AddLine(Plot plot, double[] xs, double[] ys, string label, string policy)
    {
        var line = plot.Add.ScatterLine(xs, ys, PolicyColor(policy));
        line.LegendText = label;
        line.LineWidth = 1.5f;
        if (policy == Policies.Optimum) line.LinePattern = LinePattern.Dashed;
    }

    private static Plot StackedPlot(ReplayReport report, Bucket bucket, IReadOnlyList<(string SiteId, double[] Busy)> busy, string title)
    {
        var plot = new Plot();
        plot.Axes.DateTimeTicksBottom();
        plot.Title(title, 14);
        var xs = bucket.Times(report.From);
        var lower = new double[xs.Length];
        for (var i = 0; i < busy.Count; i++)
        {
            var upper = bucket.Means(busy[i].Busy, 1);
            for (var k = 0; k < upper.Length; k++) upper[k] += lower[k];
            var fill = plot.Add.FillY(xs, lower, upper);
            fill.FillStyle.Color = SiteColor(i).WithAlpha(0.6);
            fill.LineStyle.Width = 0;
            fill.LegendText = busy[i].SiteId;
            lower = upper;
        }
        plot.ShowLegend(Alignment.UpperRight);
        return plot;
    }

    private static Plot JobStripPlot(ReplayReport report, PolicyResult policy, IReadOnlyList<string> siteIds, HtmlReportOptions options)
    {
        var plot = new Plot();
        plot.Axes.DateTimeTicksBottom();
        plot.Title($"{policy.Policy}: sampled jobs (one row each)", 14);
        var jobIds = policy.Stints.Select(s => s.JobId).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        var every = Math.Max(1, (int)Math.Ceiling(jobIds.Count / (double)Math.Max(1, options.SampledJobs)));
        var sample = jobIds.Where((_, i) => i % every == 0).ToList();
        var row = sample.Select((id, i) => (id, i)).ToDictionary(x => x.id, x => x.i, StringComparer.Ordinal);
        var stepDays = report.Step.TotalDays;
        var start = report.From.UtcDateTime.ToOADate();
        foreach (var stint in policy.Stints)
        {
            if (!row.TryGetValue(stint.JobId, out var y)) continue;
            var site = Math.Max(0, siteIds.ToList().IndexOf(stint.SiteId));
            var rect = plot.Add.Rectangle(start + stint.FromStep * stepDays, start + stint.ToStep * stepDays, y - 0.4, y + 0.4);
            rect.FillStyle.Color = SiteColor(site);
            rect.LineStyle.Width = 0;
        }
        for (var i = 0; i < siteIds.Count; i++)
        {
            // Legend entries only: a zero-size marker per site colour.
            var key = plot.Add.Marker(start, 0, MarkerShape.FilledSquare, 0, SiteColor(i));
            key.LegendText = siteIds[i];
        }
        plot.YLabel("job (sample)", 12);
        plot.ShowLegend(Alignment.UpperRight);
        return plot;
    }

    /// <summary>Busy GPUs (or jobs) per site and step from a policy's stints, by difference arrays (stints are many).</summary>
    private static List<(string SiteId, double[] Busy)> BusyFromStints(PolicyResult policy, IReadOnlyList<string> siteIds, int steps, IReadOnlyList<JobSpec>? jobs)
    {
        var gpus = jobs?.ToDictionary(j => j.Id, j => j.Gpus, StringComparer.Ordinal);
        var delta = siteIds.ToDictionary(id => id, _ => new double[steps + 1], StringComparer.Ordinal);
        foreach (var stint in policy.Stints)
        {
            if (!delta.TryGetValue(stint.SiteId, out var d)) continue;
            var weight = gpus is not null && gpus.TryGetValue(stint.JobId, out var g) ? g : 1;
            var from = Math.Clamp(stint.FromStep, 0, steps);
            var to = Math.Clamp(stint.ToStep, from, steps);
            d[from] += weight;
            d[to] -= weight;
        }
        return [.. siteIds.Select(id =>
        {
            var busy = new double[steps];
            var running = 0.0;
            for (var t = 0; t < steps; t++) busy[t] = running += delta[id][t];
            return (id, busy);
        })];
    }

    private static Color PolicyColor(string policy) => policy switch
    {
        Policies.Scheduler => Color.FromHex("#1f77b4"),
        Policies.Greedy => Color.FromHex("#ff7f0e"),
        Policies.Agnostic => Color.FromHex("#7f7f7f"),
        Policies.Optimum => Color.FromHex("#2ca02c"),
        _ => Color.FromHex("#9467bd"),
    };

    private static Color SiteColor(int index)
    {
        string[] palette = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf"];
        return Color.FromHex(palette[index % palette.Length]);
    }

    private static string Encode(string text) => WebUtility.HtmlEncode(text);

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

    /// <summary>How series are averaged for plotting: whole steps per point, chosen to land on hours or days.</summary>
    private sealed record Bucket(int StepsPerPoint, int Points, TimeSpan Step)
    {
        public static Bucket For(TimeSpan step, int steps, int maxPoints)
        {
            if (steps <= maxPoints || step <= TimeSpan.Zero) return new Bucket(1, steps, step);
            // The smallest natural period (hours, days, weeks) that brings the series under the limit.
            int[] hours = [1, 2, 3, 6, 12, 24, 48, 168, 336, 720, 8760];
            foreach (var h in hours)
            {
                var per = TimeSpan.FromHours(h) / step;
                if (per < 1 || Math.Abs(per - Math.Round(per)) > 1e-9) continue;
                var stepsPerPoint = (int)Math.Round(per);
                if ((steps + stepsPerPoint - 1) / stepsPerPoint <= maxPoints) return new Bucket(stepsPerPoint, (steps + stepsPerPoint - 1) / stepsPerPoint, step);
            }
            var fallback = (steps + maxPoints - 1) / maxPoints;
            return new Bucket(fallback, (steps + fallback - 1) / fallback, step);
        }

        public string Describe()
        {
            if (StepsPerPoint == 1) return "Series are plotted at every step.";
            var period = Step * StepsPerPoint;
            var name = period == TimeSpan.FromDays(1) ? "daily" : period == TimeSpan.FromDays(7) ? "weekly" : period.TotalHours < 24 ? $"{period.TotalHours:0.#}-hour" : $"{period.TotalDays:0.#}-day";
            return Invariant($"Series are plotted as {name} means ({StepsPerPoint} steps per point) to keep this page small; the scoreboard is computed from every step.");
        }

        /// <summary>Each point's time: the start of its bucket, as an OLE date for ScottPlot's date axis.</summary>
        public double[] Times(DateTimeOffset from) =>
            [.. Enumerable.Range(0, Points).Select(i => (from + Step * (i * StepsPerPoint)).UtcDateTime.ToOADate())];

        public double[] Means(double[] series, double scale)
        {
            var means = new double[Points];
            for (var i = 0; i < Points; i++)
            {
                var from = i * StepsPerPoint;
                var to = Math.Min(series.Length, from + StepsPerPoint);
                double sum = 0;
                for (var t = from; t < to; t++) sum += series[t];
                means[i] = to > from ? sum / (to - from) * scale : 0;
            }
            return means;
        }
    }
}
