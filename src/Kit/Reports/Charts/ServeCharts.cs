using Kit.Benchmarks.Serving;
using Plotly.NET;
using CSharpChart = Plotly.NET.CSharp.Chart;

namespace Kit.Reports.Charts;

/// <summary>
/// Charts of a served model under load (<see cref="ServeLoadGenerator"/>): what more concurrent clients buy in
/// aggregate throughput, and what each client pays for it in latency. One line per endpoint and model.
/// </summary>
public static class ServeCharts
{
    /// <summary>Generated tokens per second of all clients together against the number of clients.</summary>
    public static GenericChart Throughput(IEnumerable<ServeLoadResult> runs) =>
        ChartStyle.Combine(PerServer(runs).Select(g => CSharpChart.Line<int, double, string>(
                x: g.Select(r => r.Clients), y: g.Select(r => r.GeneratedTokensPerSecond), Name: g.Key, ShowMarkers: true)))
            .Styled("Aggregate throughput", "concurrent clients", "generated tokens/s (all clients)");

    /// <summary>
    /// Median and 90th-percentile time to first token and inter-token latency against the number of clients, as
    /// each client sees them (log y axis: the first token waits for other prompts' prefill, the next ones do not).
    /// </summary>
    public static GenericChart Latency(IEnumerable<ServeLoadResult> runs)
    {
        var charts = new List<GenericChart>();
        foreach (var g in PerServer(runs))
        {
            string prefix = PerServer(runs).Count() > 1 ? g.Key + ": " : "";
            charts.Add(Line(g, prefix + "time to first token p50", r => r.TimeToFirstTokenMs.P50, StyleParam.DrawingStyle.Solid));
            charts.Add(Line(g, prefix + "time to first token p90", r => r.TimeToFirstTokenMs.P90, StyleParam.DrawingStyle.Dash));
            charts.Add(Line(g, prefix + "inter-token latency p50", r => r.InterTokenLatencyMs.P50, StyleParam.DrawingStyle.Solid));
            charts.Add(Line(g, prefix + "inter-token latency p90", r => r.InterTokenLatencyMs.P90, StyleParam.DrawingStyle.Dash));
        }
        return ChartStyle.Combine(charts).Styled("Latency per client", "concurrent clients", "ms", logY: true);
    }

    static GenericChart Line(IEnumerable<ServeLoadResult> runs, string name, Func<ServeLoadResult, double> value, StyleParam.DrawingStyle dash) =>
        CSharpChart.Line<int, double, string>(x: runs.Select(r => r.Clients), y: runs.Select(value), Name: name, ShowMarkers: true, LineDash: dash);

    static IEnumerable<IGrouping<string, ServeLoadResult>> PerServer(IEnumerable<ServeLoadResult> runs) =>
        runs.OrderBy(r => r.Clients).GroupBy(r => Readable.Model(r.Model));
}
