using System.Text.Json;
using Kit.Benchmarks.Serving;
using Kit.Reports.Charts;
using Plotly.NET;

namespace Kit.Tests.Reports;

public sealed class ServeChartsTests
{
    static ServeLoadResult Run(int clients, long tokens, double wall, double ttft, double itl) =>
        new("http://127.0.0.1:1", "w4a16", clients, 8, 8, 128, null, 32, tokens, wall,
            new Percentiles(ttft, ttft * 2, ttft * 3, 8), new Percentiles(itl, itl * 1.5, itl * 2, 8), new Percentiles(1, 1, 1, 8), 0, []);

    static JsonElement Figure(GenericChart chart) => JsonDocument.Parse(GenericChart.toFigureJson(chart)).RootElement;

    static double[] Numbers(JsonElement trace, string axis) => trace.GetProperty(axis).EnumerateArray().Select(v => v.GetDouble()).ToArray();

    [Fact]
    public void Throughput_is_tokens_over_wall_time_ordered_by_clients()
    {
        var runs = new[] { Run(8, 800, 10, 300, 40), Run(1, 100, 5, 100, 20), Run(4, 400, 8, 200, 30) };
        var trace = Figure(ServeCharts.Throughput(runs)).GetProperty("data")[0];
        Assert.Equal([1.0, 4.0, 8.0], Numbers(trace, "x"));
        Assert.Equal([20.0, 50.0, 80.0], Numbers(trace, "y"));
    }

    [Fact]
    public void Latency_draws_p50_and_p90_of_first_token_and_inter_token_on_a_log_axis()
    {
        var figure = Figure(ServeCharts.Latency([Run(1, 100, 5, 100, 20), Run(8, 800, 10, 300, 40)]));
        var traces = figure.GetProperty("data").EnumerateArray().ToDictionary(t => t.GetProperty("name").GetString()!);
        Assert.Equal(4, traces.Count);
        Assert.Equal([200.0, 600.0], Numbers(traces["time to first token p90"], "y"));
        Assert.Equal([20.0, 40.0], Numbers(traces["inter-token latency p50"], "y"));
        Assert.Equal("log", figure.GetProperty("layout").GetProperty("yaxis").GetProperty("type").GetString());
    }
}
