using Kit.Evaluation.Results;
using Kit.Reports;
using Kit.Reports.Charts;

namespace Kit.Tests.Reports;

[Trait("Category", "Slow")]
public sealed class HtmlReportScreenshotTests
{
    // Plotly's default plot area colour (#E5ECF6): a band of rows holding it is one chart's drawn plot area.
    static bool IsPlotBackground((byte R, byte G, byte B) p) => Math.Abs(p.R - 229) <= 2 && Math.Abs(p.G - 236) <= 2 && Math.Abs(p.B - 246) <= 2;

    // Trace colours (plotly's colorway) are saturated; white, greys, text and the plot area are not.
    static bool IsTraceColour((byte R, byte G, byte B) p) => Math.Max(p.R, Math.Max(p.G, p.B)) - Math.Min(p.R, Math.Min(p.G, p.B)) > 60;

    /// <summary>The drawn plot areas, top to bottom, each with its count of trace-coloured pixels.</summary>
    static List<(int Top, int Bottom, int TracePixels)> Plots(Png png)
    {
        var bands = new List<(int Top, int Bottom, int TracePixels)>();
        for (int y = 0; y < png.Height; y++)
        {
            int background = 0, trace = 0;
            for (int x = 0; x < png.Width; x++)
            {
                var p = png[x, y];
                if (IsPlotBackground(p)) background++;
                else if (IsTraceColour(p)) trace++;
            }
            if (background < 50) continue;
            // Grid lines cross a plot area in rows without background: a gap of a few rows is the same plot.
            if (bands.Count > 0 && y - bands[^1].Bottom <= 6) bands[^1] = (bands[^1].Top, y, bands[^1].TracePixels + trace);
            else bands.Add((y, y, trace));
        }
        return bands;
    }

    static HtmlReport Report()
    {
        var time = DateTime.UnixEpoch;
        EvaluationRecord Row(string model, string metric, double value) => new("r", time, model, null, "kit_stories", metric, value, 0.05, 24, null);
        SpeedRow Point(string model, int batch, double tps) => new(model, batch, 128, 20 * batch, 1000, tps / batch, tps, tps, 2_000_000_000, 700_000_000,
            ArithmeticIntensity: batch * 2.0, AchievedFlopsPerSecond: tps * 2e9);
        var speed = new[] { Point("W4A16", 1, 25), Point("W4A16", 16, 90), Point("W8A8", 1, 20), Point("W8A8", 16, 120) };
        return new HtmlReport("Offline charts")
            .Paragraph("Each chart below must draw from the plotly.js inlined in this page, with no network.")
            .Table(Tables.Speed(speed))
            .Chart(AccuracyCharts.TaskScores([Row("dense", "acc", 0.5), Row("dense", "acc_norm", 0.62), Row("w4", "acc", 0.45), Row("w4", "acc_norm", 0.6)]))
            .Chart(SpeedCharts.Throughput(speed))
            .Chart(SpeedCharts.Roofline(speed, new Roofline("this machine", 40e9, 400e9)))
            .Chart(FrontierChart.Pareto([new FrontierPoint("float32", 0.62, 4_000_000_000, 4), new FrontierPoint("W4A16", 0.6, 700_000_000, 25)], "acc_norm", "tok/s"));
    }

    [ChromiumFact]
    public void Every_chart_of_the_report_draws_offline()
    {
        var report = Report();
        string html = report.Write(Path.Combine(TestPaths.NewTempDir(), "report.html"));
        var png = Png.Read(Chromium.Screenshot(html, 900, 2600));
        var plots = Plots(png);
        Assert.True(plots.Count == report.ChartCount, $"{plots.Count} drawn plot areas for {report.ChartCount} charts: {string.Join(", ", plots)}");
        foreach (var plot in plots)
        {
            // A plot area of a chart is at least a few hundred rows high and carries its traces.
            Assert.InRange(plot.Bottom - plot.Top, 200, 420);
            Assert.True(plot.TracePixels > 300, $"plot area at rows {plot.Top}–{plot.Bottom} has only {plot.TracePixels} trace pixels");
        }
    }

    [ChromiumFact]
    public void Without_the_inlined_plotly_js_nothing_draws_offline()
    {
        // The same page less its plotly.js: the check above must see that.
        string html = Report().ToHtml().Replace(PlotlyJs.ScriptTags(), "");
        string path = Path.Combine(TestPaths.NewTempDir(), "report.html");
        File.WriteAllText(path, html);
        Assert.Empty(Plots(Png.Read(Chromium.Screenshot(path, 900, 2600))));
    }
}
