using System.Text.Json;
using Kit.Evaluation.Agreement;
using Kit.Evaluation.Results;
using Kit.Reports;
using Kit.Reports.Charts;
using Plotly.NET;

namespace Kit.Tests.Reports;

public sealed class ChartBuilderTests
{
    static JsonElement Figure(GenericChart chart) => JsonDocument.Parse(GenericChart.toFigureJson(chart)).RootElement;

    static JsonElement Trace(JsonElement figure, string name) =>
        figure.GetProperty("data").EnumerateArray().Single(t => t.TryGetProperty("name", out var n) && n.GetString() == name);

    static double[] Numbers(JsonElement trace, string axis) => trace.GetProperty(axis).EnumerateArray().Select(v => v.GetDouble()).ToArray();

    static string[] Strings(JsonElement trace, string axis) => trace.GetProperty(axis).EnumerateArray().Select(v => v.GetString()!).ToArray();

    static EvaluationRecord Row(string model, string task, string metric, double value) =>
        new("r", DateTime.UnixEpoch, model, null, task, metric, value, double.NaN, 10, null);

    static SpeedRow Point(string model, int batch, double ttft, double batchTps, int prompt = 128, long weights = 1_000_000) =>
        new(model, batch, prompt, ttft, 1000, batchTps / batch, batchTps, batchTps * 0.9, 2_000_000, weights);

    [Fact]
    public void Task_scores_are_one_bar_trace_per_model_in_percent()
    {
        var figure = Figure(AccuracyCharts.TaskScores(
        [
            Row("/runs/w4", "kit_stories", "acc", 0.25), Row("/runs/w4", "kit_stories", "acc_norm", 0.5),
            Row("dense", "kit_stories", "acc_norm", 0.625), Row("dense", "perplexity", "perplexity", 19.4),
        ])!);
        Assert.Equal(2, figure.GetProperty("data").GetArrayLength());
        var w4 = Trace(figure, "w4");
        Assert.Equal("bar", w4.GetProperty("type").GetString());
        Assert.Equal(["kit_stories · acc", "kit_stories · acc_norm"], Strings(w4, "x"));
        Assert.Equal([25.0, 50.0], Numbers(w4, "y"));
        Assert.Equal([62.5], Numbers(Trace(figure, "dense"), "y"));
        Assert.Equal("score (%)", figure.GetProperty("layout").GetProperty("yaxis").GetProperty("title").GetProperty("text").GetString());
    }

    [Fact]
    public void Accuracy_charts_are_null_when_there_is_nothing_to_draw()
    {
        Assert.Null(AccuracyCharts.TaskScores([Row("m", "perplexity", "perplexity", 4)]));
        Assert.Null(AccuracyCharts.Perplexity([Row("m", "kit_stories", "acc", 0.5)]));
        Assert.Null(AccuracyCharts.LayerErrors([new LayerError(0, "model.layers.0.mlp.down_proj", double.NaN, double.NaN, 0)]));
    }

    [Fact]
    public void Gap_recovered_is_in_percent_and_leaves_out_variants_without_a_naive_method()
    {
        var figure = Figure(AccuracyCharts.GapRecovered(
        [
            new Kit.Evaluation.VariantRecovery("dense", 4, 1, null, 0), new Kit.Evaluation.VariantRecovery("GPTQ W4", 4.5, 0.89, 0.5, 2),
        ]));
        var trace = figure.GetProperty("data")[0];
        Assert.Equal(["GPTQ W4"], Strings(trace, "x"));
        Assert.Equal([50.0], Numbers(trace, "y"));
    }

    [Fact]
    public void Activation_profiles_are_one_line_per_label_with_the_outlier_ratio_in_its_name()
    {
        var spiky = new Kit.Evaluation.ActivationProfile("m", "model.layers.0.self_attn.q_proj", [1, 1, 9, 1]);
        var flat = new Kit.Evaluation.ActivationProfile("m2", "model.layers.0.self_attn.q_proj", [3, 3, 3, 3]);
        var figure = Figure(AccuracyCharts.ActivationProfiles([("original", spiky), ("rotated", flat)]));
        Assert.Equal([1.0, 1, 9, 1], Numbers(Trace(figure, "original (max ÷ median 9.0)"), "y"));
        Assert.Equal([0.0, 1, 2, 3], Numbers(Trace(figure, "rotated (max ÷ median 1.0)"), "x"));
        Assert.Contains("L0.self_attn.q_proj", figure.GetProperty("layout").GetProperty("title").GetProperty("text").GetString());
    }

    [Fact]
    public void Layer_errors_skip_unmeasured_modules_and_shorten_names()
    {
        var figure = Figure(AccuracyCharts.LayerErrors(
        [
            new LayerError(0, "model.layers.0.self_attn.q_proj", 0.01, 1, 0), new LayerError(0, "model.layers.0.mlp.down_proj", double.NaN, double.NaN, 0),
            new LayerError(1, "model.layers.1.mlp.down_proj", 0.03, 2, 0),
        ])!);
        var trace = figure.GetProperty("data")[0];
        Assert.Equal(["L0.self_attn.q_proj", "L1.mlp.down_proj"], Strings(trace, "x"));
        Assert.Equal([0.01, 0.03], Numbers(trace, "y"));
    }

    [Fact]
    public void Speed_lines_run_over_batch_on_a_log_axis_one_per_model_and_prompt()
    {
        var points = new[] { Point("W4A16", 4, 40, 80), Point("W4A16", 1, 10, 25), Point("W4A16", 1, 30, 24, prompt: 512), Point("W8A8", 1, 12, 20) };
        var figure = Figure(SpeedCharts.TimeToFirstToken(points));
        Assert.Equal(3, figure.GetProperty("data").GetArrayLength());
        var w4 = Trace(figure, "W4A16, 128-token prompt");
        Assert.Equal([1.0, 4.0], Numbers(w4, "x"));
        Assert.Equal([10.0, 40.0], Numbers(w4, "y"));
        Assert.Equal("log", figure.GetProperty("layout").GetProperty("xaxis").GetProperty("type").GetString());
        var throughput = Figure(SpeedCharts.Throughput(points.Where(p => p.PromptTokens == 128)));
        Assert.Equal([25.0, 80.0], Numbers(Trace(throughput, "W4A16"), "y"));
    }

    [Fact]
    public void Memory_chart_shows_weights_and_peak_of_the_largest_batch_in_GB()
    {
        var figure = Figure(SpeedCharts.Memory([Point("f32", 1, 1, 1, weights: 4_000_000_000), Point("f32", 16, 1, 1, weights: 4_000_000_000) with { PeakMemoryBytes = 6_500_000_000 }]));
        Assert.Equal([4.0], Numbers(Trace(figure, "weights"), "y"));
        Assert.Equal([6.5], Numbers(Trace(figure, "peak memory (largest batch)"), "y"));
    }

    [Fact]
    public void Roofline_draws_min_of_bandwidth_and_compute_and_places_each_point()
    {
        var machine = new Roofline("this machine", 40e9, 400e9); // ridge at 10 operations per byte
        Assert.Equal(10, machine.RidgeIntensity, 12);
        Assert.Equal(80e9, machine.Attainable(2));
        Assert.Equal(400e9, machine.Attainable(100));
        var points = new[] { Point("W4A16", 1, 1, 1) with { ArithmeticIntensity = 2, AchievedFlopsPerSecond = 60e9 }, Point("W4A16", 64, 1, 1) with { ArithmeticIntensity = 100, AchievedFlopsPerSecond = 300e9 } };
        var figure = Figure(SpeedCharts.Roofline(points, machine));
        var roof = Trace(figure, "roof: this machine");
        // Corners at a quarter of the lowest intensity, the ridge, and four times the highest, in GFLOP/s.
        Assert.Equal([0.5, 10, 400], Numbers(roof, "x"));
        Assert.Equal([20, 400, 400], Numbers(roof, "y"));
        Assert.Equal([60, 300], Numbers(Trace(figure, "W4A16"), "y"));
        var layout = figure.GetProperty("layout");
        Assert.Equal("log", layout.GetProperty("xaxis").GetProperty("type").GetString());
        Assert.Equal("log", layout.GetProperty("yaxis").GetProperty("type").GetString());
        Assert.Throws<ArgumentException>(() => SpeedCharts.Roofline(points));
    }

    [Fact]
    public void Crossover_chart_marks_the_first_batch_from_which_the_challenger_stays_faster()
    {
        var points = new[]
        {
            Point("W4A16", 1, 1, 25), Point("W4A16", 4, 1, 60), Point("W4A16", 16, 1, 90), Point("W4A16", 64, 1, 100),
            Point("W8A8", 1, 1, 20), Point("W8A8", 4, 1, 55), Point("W8A8", 16, 1, 120), Point("W8A8", 64, 1, 260),
        };
        var crossover = SpeedRow.FindCrossover(points, "W8A8", "W4A16");
        Assert.Equal(16, crossover.Batch);
        Assert.Equal(128, crossover.PromptTokens);
        // Ratio 55/60 at batch 4 and 120/90 at 16 cross 1 at exp(ln 4 + ln(60/55) / ln((120/90)·(60/55)) · ln 4), straight in log–log.
        double f = Math.Log(60.0 / 55) / (Math.Log(120.0 / 90) - Math.Log(55.0 / 60));
        Assert.Equal(Math.Exp(Math.Log(4) + f * Math.Log(4)), crossover.EstimatedBatch!.Value, 9);
        // W4A16 leads W8A8 at small batches but loses the lead: that is no crossover.
        Assert.Equal("W4A16 does not overtake W8A8 at the measured batch sizes", Title(Figure(SpeedCharts.Crossover(points, "W4A16", "W8A8"))));
        // A lead that is lost again at a larger batch does not count either.
        SpeedRow[] lostAgain = [.. points, Point("W4A16", 256, 1, 300), Point("W8A8", 256, 1, 280)];
        Assert.Null(SpeedRow.FindCrossover(lostAgain, "W8A8", "W4A16").Batch);
        var lost = Figure(SpeedCharts.Crossover(lostAgain, "W8A8", "W4A16"));
        Assert.Equal("W8A8 does not overtake W4A16 at the measured batch sizes", Title(lost));
        Assert.DoesNotContain(lost.GetProperty("data").EnumerateArray(), t => t.GetProperty("name").GetString()!.StartsWith("crossover"));

        var figure = Figure(SpeedCharts.Crossover(points, "W8A8", "W4A16"));
        var mark = Trace(figure, "crossover: batch 16");
        Assert.Equal([16.0], Numbers(mark, "x"));
        Assert.Equal([120.0], Numbers(mark, "y"));
        Assert.Equal("W8A8 overtakes W4A16 at batch 16", Title(figure));
        // Models that share no batch size have no crossover to draw.
        var apart = Assert.Throws<ArgumentException>(() => SpeedCharts.Crossover([Point("W4A16", 1, 1, 25), Point("W8A8", 2, 1, 40)], "W8A8", "W4A16"));
        Assert.Contains("share no batch size", apart.Message);
    }

    static string Title(JsonElement figure) => figure.GetProperty("layout").GetProperty("title").GetProperty("text").GetString()!;

    [Fact]
    public void Pareto_keeps_the_variants_no_other_beats_on_accuracy_size_and_speed()
    {
        var f32 = new FrontierPoint("float32", 0.60, 4_000_000_000, 4);
        var w8 = new FrontierPoint("W8A16", 0.60, 1_000_000_000, 20);
        var w4 = new FrontierPoint("W4A16", 0.58, 600_000_000, 25);
        var w4rtn = new FrontierPoint("W4A16 RTN", 0.55, 600_000_000, 25);
        var sparse = new FrontierPoint("2:4", 0.40, 2_000_000_000, 30);
        var optimal = FrontierChart.Optimal([f32, w8, w4, w4rtn, sparse]);
        // float32 is beaten by W8A16 (as accurate, smaller, faster); RTN by GPTQ at the same size and speed.
        Assert.Equal(["W8A16", "W4A16", "2:4"], optimal.Select(p => p.Variant));
        // With perplexity (lower is better) the order of accuracy flips.
        var byPerplexity = FrontierChart.Optimal([new FrontierPoint("a", 10, 100, 5), new FrontierPoint("b", 12, 100, 5)], higherIsBetter: false);
        Assert.Equal(["a"], byPerplexity.Select(p => p.Variant));

        var figure = Figure(FrontierChart.Pareto([f32, w8, w4, w4rtn, sparse], "acc_norm", "decode tok/s at batch 1"));
        var front = Trace(figure, "Pareto-optimal");
        // In size order, in MB.
        Assert.Equal([600.0, 1000.0, 2000.0], Numbers(front, "x"));
        Assert.Equal([0.58, 0.60, 0.40], Numbers(front, "y"));
        Assert.Equal(2, Trace(figure, "dominated").GetProperty("x").GetArrayLength());
        // Marker diameter 10 + 30·√(speed / fastest): 25, 20 and 30 tok/s give 37, 34 and 40 px.
        Assert.Equal([37, 34, 40], front.GetProperty("marker").GetProperty("size").EnumerateArray().Select(s => s.GetInt32()));
    }

    [Fact]
    public void Chart_fragment_draws_with_the_pages_plotly_and_carries_the_figure()
    {
        var chart = SpeedCharts.Throughput([Point("W4A16", 1, 10, 25)]);
        string html = PlotlyJs.ChartFragment(chart, "c1");
        Assert.Contains("<div id=\"c1\" class=\"kit-chart\" style=\"width:760px;height:420px\">", html);
        Assert.Contains("window.Plotly.newPlot", html);
        Assert.Contains("\"name\":\"W4A16\"", html);
        Assert.Matches(@"^\d+\.\d+\.\d+$", PlotlyJs.Version);
        Assert.Contains("plotly.js v" + PlotlyJs.Version, PlotlyJs.Source[..200]);
    }
}

public sealed class SpeedReportTests
{
    static SpeedRow Point(string model, int batch, double batchTps) =>
        new(model, batch, 128, 10 * batch, 1000, batchTps / batch, batchTps, batchTps, null, 700_000_000, batch * 2.0, batchTps * 1e9);

    [Fact]
    public void Speed_report_says_where_the_crossover_is_and_draws_each_chart()
    {
        var points = new[] { Point("W4A16", 1, 25), Point("W4A16", 16, 90), Point("W8A8", 1, 20), Point("W8A8", 16, 120) };
        var report = SpeedReport.Build(points, [new Roofline("this machine", 41.6e9, 1e12)],
            [SpeedRow.FindCrossover(points, "W8A8", "W4A16"), SpeedRow.FindCrossover(points, "W4A16", "W8A8")]);
        // Time to first token, per-sequence speed, throughput, two crossovers, memory, roofline.
        Assert.Equal(7, report.ChartCount);
        string html = report.ToHtml();
        Assert.Contains("W8A8 overtakes W4A16 in batch throughput from batch 16 on.", html);
        // Ratios 0.8 at batch 1 and 4/3 at 16 reach 1 at exp(ln 16 · ln 1.25 / ln(4/3 · 1.25)) ≈ 3.36.
        Assert.Contains("equal at batch ≈ 3.36", html);
        Assert.Contains("W4A16 does not overtake W8A8 at the batch sizes measured.", html);
        Assert.Contains("memory bandwidth 41.6 GB/s, compute ceiling 1.00 TFLOP/s", html);
        Assert.Equal(4, SpeedReport.Build(points).ChartCount);
        Assert.Throws<ArgumentException>(() => SpeedReport.Build([]));
    }
}
