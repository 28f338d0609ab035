using System.Text.Json;
using Kit.Benchmarks;
using Kit.Evaluation.Results;
using Kit.Notebook;
using Kit.Reports;
using Kit.Reports.Charts;
using Plotly.NET;

namespace Kit.Tests.Reports;

public sealed class SpeedRowTests
{
    static readonly MachineCeilings Machine = new(BandwidthGBps: 10, Float32GFlops: 50, Int8GOps: 120, Threads: 2, InstructionSet: "test");

    // Decode: 2·10⁶ operations over 2·10⁵ bytes in 10 ms, intensity 10 under a 10 GB/s, 50 GFLOP/s roof (compute-bound there).
    static SpeedPoint Point(string model = "w8a8", int batch = 4) => new(model, "compressed-tensors", batch, 8, 5, 3,
        new DecodeTimings(new Spread(12, 10, 15), new Spread(100, 90, 110), new Spread(400, 360, 440), new Spread(300, 280, 310)),
        new Spread(2000, 1900, 2100), 3_000_000, 2_000_000, 1_000_000, 250_000,
        new RooflinePoint(4e6, 1e6, 0.012, 50, 10), new RooflinePoint(2e6, 2e5, 0.01, 50, 10), 1.5);

    [Fact]
    public void A_sweep_point_becomes_a_row_of_medians_with_decode_on_the_roofline()
    {
        var row = SpeedRow.From(Point());
        Assert.Equal(new SpeedRow("w8a8", 4, 8, 12, 2000, 100, 400, 300, 3_000_000, 1_000_000,
            ArithmeticIntensity: 10, AchievedFlopsPerSecond: 2e8, BandwidthFraction: 0.002, RooflineFraction: 0.004), row with
        {
            AchievedFlopsPerSecond = Math.Round(row.AchievedFlopsPerSecond!.Value), BandwidthFraction = Math.Round(row.BandwidthFraction!.Value, 12),
            RooflineFraction = Math.Round(row.RooflineFraction!.Value, 12),
        });
    }

    [Fact]
    public void Speed_rows_read_back_from_the_results_table_equal_the_sweeps()
    {
        var sweep = new SpeedSweepResult(Machine, [Point("w4a16", 1), Point("w4a16", 4), Point("w8a8", 1) with { WeightBytes = 700_000 }]);
        var records = SpeedRecords.From(sweep, "run1", DateTime.UnixEpoch).Append(new EvaluationRecord("run1", DateTime.UnixEpoch, "w4a16", null,
            "perplexity", "perplexity", 20, double.NaN, 10, null)).ToList();
        var expected = SpeedRow.From(sweep);
        var read = SpeedRow.From(records);
        Assert.Equal(3, read.Count);
        for (int i = 0; i < 3; i++)
        {
            // Achieved operations per second come back as intensity × GB/s: equal up to rounding.
            Assert.Equal(expected[i].AchievedFlopsPerSecond!.Value, read[i].AchievedFlopsPerSecond!.Value, 1e-3);
            Assert.Equal(expected[i], read[i] with { AchievedFlopsPerSecond = expected[i].AchievedFlopsPerSecond });
        }

        var missing = Assert.Throws<ArgumentException>(() => SpeedRow.From(records.Where(r => !(r.Metric == "ttft_ms" && r.Model == "w8a8"))));
        Assert.Equal("run run1, w8a8 at batch 1, prompt 8: no 'ttft_ms' speed row", missing.Message);
    }

    [Fact]
    public void Measured_ceilings_give_a_float32_and_an_int8_roof_under_one_bandwidth()
    {
        var roofs = Roofline.Measured(Machine);
        Assert.Equal(["float32, measured, this machine", "int8, measured, this machine"], roofs.Select(r => r.Label));
        Assert.All(roofs, r => Assert.Equal(10e9, r.BandwidthBytesPerSecond));
        Assert.Equal([50e9, 120e9], roofs.Select(r => r.PeakFlopsPerSecond));
        Assert.Equal([5.0, 12.0], roofs.Select(r => r.RidgeIntensity));
    }

    [Fact]
    public void A_notebook_draws_a_sweep_in_one_call()
    {
        var sweep = new SpeedSweepResult(Machine, [Point("w4a16", 1) with { Timings = Point().Timings with { BatchDecodeTokensPerSecond = new Spread(90, 80, 95) } },
            Point("w4a16", 4)]);
        var figure = JsonDocument.Parse(GenericChart.toFigureJson(SpeedCharts.Throughput(sweep))).RootElement;
        var line = figure.GetProperty("data").EnumerateArray().Single();
        Assert.Equal([1.0, 4.0], line.GetProperty("x").EnumerateArray().Select(v => v.GetDouble()));
        Assert.Equal([90.0, 400.0], line.GetProperty("y").EnumerateArray().Select(v => v.GetDouble()));
        var roofline = JsonDocument.Parse(GenericChart.toFigureJson(SpeedCharts.Roofline(sweep))).RootElement;
        Assert.Equal(["roof: float32, measured, this machine", "roof: int8, measured, this machine", "w4a16"],
            roofline.GetProperty("data").EnumerateArray().Select(t => t.GetProperty("name").GetString()));
        // Time to first token, per-sequence speed, throughput, memory, roofline: no crossover without a second model.
        Assert.Equal(5, SpeedReport.Build(sweep).ChartCount);
        string table = NotebookOutput.Speed(sweep).Html;
        Assert.Contains(">90.0 tok/s<", table);
        Assert.Contains(">12.0 ms<", table);
        Assert.Contains(">0.400 %<", table);
    }
}
