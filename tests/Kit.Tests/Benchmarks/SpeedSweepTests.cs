using Kit.Benchmarks;
using Kit.Evaluation.Results;
using Kit.Tests.Cli;

namespace Kit.Tests.Benchmarks;

public sealed class SpeedSweepTests
{
    // Fixed ceilings, so that the roofline figures can be checked by hand.
    static readonly MachineCeilings Machine = new(BandwidthGBps: 10, Float32GFlops: 50, Int8GOps: 100, Threads: 2, InstructionSet: "test");

    [Fact]
    public void Sweep_of_the_default_model_gives_every_point_with_consistent_figures_and_rows_that_read_back()
    {
        var sweep = SpeedSweep.Run(new SpeedSweepOptions
        {
            Models = ["default"], Batches = [1, 2], PromptTokens = [8, 16], NewTokens = 4, Repeats = 3, Machine = Machine,
        });
        Assert.Equal(new[] { (1, 8), (1, 16), (2, 8), (2, 16) }, sweep.Points.Select(p => (p.Batch, p.PromptTokens)));

        // Kit's default model, by hand: hidden 128, MLP 344, 4 layers, 4 heads and 2 KV heads of 32, vocabulary 1024, tied.
        long perLayer = 2 * 128 * 128 + 2 * 128 * 64 + 3 * 128 * 344;
        long linears = 4 * perLayer, head = 1024 * 128;
        long parameters = linears + 4 * 2 * 128 + head + 128;
        long kvPerPosition = 2 * 4 * 2 * 32 * 4;
        foreach (var p in sweep.Points)
        {
            var t = p.Timings;
            Assert.True(t.TimeToFirstTokenMs.Min > 0 && t.DecodeTokensPerSecond.Min > 0 && t.EndToEndTokensPerSecond.Min > 0);
            Assert.Equal(p.Batch * t.DecodeTokensPerSecond.Median, t.BatchDecodeTokensPerSecond.Median, 6);
            // With three runs the median prefill speed is that of the median first-token time.
            Assert.Equal(p.Batch * p.PromptTokens / (t.TimeToFirstTokenMs.Median / 1000), p.PrefillTokensPerSecond.Median, 6);
            // End to end counts the prefill's time too: no run can produce its tokens faster than in its first-token time.
            Assert.True(t.EndToEndTokensPerSecond.Max < p.Batch * p.NewTokens / (t.TimeToFirstTokenMs.Min / 1000));
            Assert.Equal(parameters, p.Parameters);
            Assert.Equal(parameters * 4, p.WeightBytes);
            if (OperatingSystem.IsLinux()) Assert.True(p.PeakResidentBytes > p.WeightBytes);

            Assert.Equal(2.0 * (linears + head) * p.Batch, p.Decode.Flops);
            Assert.Equal(parameters * 4 + kvPerPosition * p.Batch * (p.PromptTokens + 2.0), p.Decode.Bytes);
            Assert.Equal(1 / t.DecodeTokensPerSecond.Median, p.Decode.Seconds, 12);
            Assert.Equal(2.0 * linears * p.Batch * p.PromptTokens + 2.0 * head * p.Batch, p.Prefill.Flops);
            Assert.Equal(parameters * 4 + kvPerPosition * p.Batch * p.PromptTokens, p.Prefill.Bytes);
            double attainable = Math.Min(50, p.Decode.Flops / p.Decode.Bytes * 10);
            Assert.Equal(p.Decode.Flops / p.Decode.Seconds / 1e9 / attainable, p.Decode.FractionOfRoofline, 9);
            Assert.Equal("memory", p.Decode.Bound);
        }

        string runs = TestPaths.NewTempDir();
        var time = new DateTime(2026, 12, 4, 12, 0, 0, DateTimeKind.Utc);
        ResultsTable.Append(runs, [new EvaluationRecord("eval", time, "default", null, "perplexity", "perplexity", 20, double.NaN, 100, null)]);
        ResultsTable.Append(runs, SpeedRecords.From(sweep, "sweep", time));
        var rows = ResultsTable.Read(runs);
        Assert.Equal(1 + 3 + 4 * SpeedRecords.Metrics.Count, rows.Count);
        Assert.Equal(10, rows.Single(r => r.Metric == "bandwidth_gbps").Value);
        var ttft = rows.Single(r => r.Metric == "ttft_ms" && r.Batch == 2 && r.PromptTokens == 16);
        Assert.Equal((ResultKinds.Speed, "default", 4, 3L), (ttft.Kind, ttft.Model, ttft.NewTokens!.Value, ttft.Count));
        Assert.Equal(sweep.Points[3].Timings.TimeToFirstTokenMs.Median, ttft.Value, 9);
        Assert.Equal(ResultKinds.Accuracy, rows[0].Kind);
    }

    [Fact]
    public void Bad_sweep_options_are_refused_by_name()
    {
        static string Refusal(SpeedSweepOptions o) => Assert.Throws<ArgumentException>(() => SpeedSweep.Run(o with { Machine = Machine })).Message;
        var ok = new SpeedSweepOptions { Models = ["default"], Batches = [1], PromptTokens = [8], NewTokens = 4 };
        Assert.Equal("batch: give at least one value", Refusal(ok with { Batches = [] }));
        Assert.Equal("batch: every value must be at least 1, got 0", Refusal(ok with { Batches = [1, 0] }));
        Assert.Equal("prompt-tokens: give at least one value", Refusal(ok with { PromptTokens = [] }));
        Assert.Equal("models: give at least one model", Refusal(ok with { Models = [] }));
        Assert.Contains("new-tokens must be at least 2", Refusal(ok with { NewTokens = 1 }));
        Assert.Equal("prompt-tokens 510 plus new-tokens 4 exceeds the context of default (512 positions)", Refusal(ok with { PromptTokens = [8, 510] }));
    }

    [Fact]
    public void Kit_bench_sweep_prints_json_and_appends_speed_rows_to_the_results_table()
    {
        string dir = TestPaths.NewTempDir();
        var run = KitProcess.Run(dir, "bench", "sweep", "--models", "default,stories260K", "--batch", "1,2", "--prompt-tokens", "8", "--new-tokens", "3", "--runs", "out", "--json");
        Assert.True(run.ExitCode == 0, run.Stderr);
        var points = run.Json["sweep"]!["points"]!.AsArray();
        Assert.Equal(new[] { ("default", 1), ("default", 2), ("stories260K", 1), ("stories260K", 2) }, points.Select(p => ((string)p!["model"]!, (int)p["batch"]!)));
        var crossover = Assert.Single(run.Json["crossovers"]!.AsArray())!;
        Assert.Equal(("stories260K", "default", 2), ((string)crossover["challenger"]!, (string)crossover["incumbent"]!, crossover["ratios"]!.AsArray().Count));
        Assert.True((double)run.Json["sweep"]!["machine"]!["bandwidth_g_bps"]! > 0);
        Assert.True((double)points[1]!["timings"]!["batch_decode_tokens_per_second"]!["median"]! > 0);
        var rows = ResultsTable.Read(Path.Combine(dir, "out"));
        Assert.Equal(4 * SpeedRecords.Metrics.Count, rows.Count(r => r.Task == SpeedRecords.SpeedTask));
        Assert.All(rows, r => Assert.Equal(ResultKinds.Speed, r.Kind));
        // The run's HTML report: time to first token, per-sequence speed, throughput, the one crossover, memory and the roofline.
        string report = run.Json["report"]!.GetValue<string>();
        Assert.Equal(Path.Combine(dir, "out", $"sweep-{run.Json["run_id"]!.GetValue<string>()}", "report.html"), Path.GetFullPath(report, dir));
        string html = File.ReadAllText(Path.GetFullPath(report, dir));
        Assert.Equal(6, System.Text.RegularExpressions.Regex.Count(html, "class=\"kit-chart\""));
        Assert.Contains("roof: int8, measured, this machine", html);
        Assert.Contains("stories260K", html);
        Assert.DoesNotContain("NaN", html.Replace(Kit.Reports.PlotlyJs.ScriptTags(), ""));
    }

    [Theory]
    [InlineData("--batch", "", "batch: give at least one value")]
    [InlineData("--batch", "1,0", "batch: every value must be at least 1, got 0")]
    [InlineData("--batch", "1,x", "--batch: 'x' is not a whole number")]
    [InlineData("--prompt-tokens", "600", "prompt-tokens 600 plus new-tokens 16 exceeds the context of default (512 positions)")]
    public void Kit_bench_sweep_refuses_bad_lists_by_name(string option, string value, string message)
    {
        string dir = TestPaths.NewTempDir();
        var run = KitProcess.Run(dir, "bench", "sweep", "--models", "default", option, value, "--runs", "out");
        Assert.Equal(1, run.ExitCode);
        Assert.Contains(message, run.Stderr);
        Assert.False(Directory.Exists(Path.Combine(dir, "out")));
    }
}
