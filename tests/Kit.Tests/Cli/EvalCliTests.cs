using Kit.Evaluation.Results;

namespace Kit.Tests.Cli;

[Trait("Category", "Slow")]
public sealed class EvalCliTests
{
    static string TinyStories => TestPaths.TinyStoriesText;

    [Fact]
    public void Eval_of_a_gptq_variant_reports_perplexity_agreement_and_layer_errors()
    {
        string work = TestPaths.NewTempDir(), variant = Path.Combine(work, "w4");
        var q = KitProcess.Run(work, "quantize", "--model", TestPaths.Stories260K, "--method", "gptq", "--scheme", "W4A16",
            "--group-size", "channel", "--calibration", TinyStories, "--samples", "8", "--seq-len", "128", "--out", variant);
        Assert.True(q.ExitCode == 0, q.Stderr);

        var r = KitProcess.Run(work, "eval", "--model", variant, "--baseline", TestPaths.Stories260K, "--text", TinyStories,
            "--seq-len", "256", "--max-windows", "4", "--runs", "runs", "--json");
        Assert.True(r.ExitCode == 0, r.Stderr);
        var agreement = r.Json["agreement"]!;
        double kl = agreement["mean_kl"]!.GetValue<double>(), top1 = agreement["top1_agreement"]!.GetValue<double>();
        // 4-bit per-channel GPTQ of a 260K model moves its distributions a little, not completely.
        Assert.InRange(kl, 1e-3, 1.0);
        Assert.InRange(top1, 0.5, 0.999);
        Assert.Equal(4 * 255, agreement["positions"]!.GetValue<long>());
        double basePpl = agreement["baseline_perplexity"]!.GetValue<double>(), candPpl = r.Json["perplexity"]!["value"]!.GetValue<double>();
        Assert.Equal(agreement["candidate_perplexity"]!.GetValue<double>(), candPpl, 6);
        Assert.True(candPpl > basePpl, $"{candPpl} vs {basePpl}");
        Assert.Equal(35, r.Json["layer_errors"]!.AsArray().Count);
        // The run's HTML report: its table and a chart each of task scores (top-1 agreement), perplexity and layer errors, plotly.js inlined.
        string html = File.ReadAllText(r.Json["report"]!.GetValue<string>());
        Assert.Equal(3, System.Text.RegularExpressions.Regex.Count(html, "class=\"kit-chart\""));
        Assert.Contains("plotly.js v", html);
        Assert.Contains(">top1_agreement<", html);
        Assert.DoesNotContain("NaN", html.Replace(Kit.Reports.PlotlyJs.ScriptTags(), ""));

        var rows = ResultsTable.Read(Path.Combine(work, "runs"));
        Assert.Equal(9, rows.Count);
        Assert.Equal(basePpl / candPpl, rows.Single(x => x.Task == "perplexity" && x.Metric == "recovery").Value, 9);
        Assert.Equal(basePpl / candPpl, rows.Single(x => x.Task == "mean" && x.Metric == "recovery").Value, 9);
        Assert.Contains(rows, x => x.Task == "perplexity" && x.Model == TestPaths.Stories260K && Math.Abs(x.Value - basePpl) < 1e-9);
        Assert.Contains(rows, x => x.Metric == "top1_agreement" && x.Baseline == TestPaths.Stories260K && x.StdErr > 0);
    }

    [Theory]
    [InlineData("eval --model {m} --tasks nosuchtask", "unknown task(s) nosuchtask")]
    [InlineData("eval --model {m} --tasks kit_stories --limit 0", "limit must be at least 1")]
    [InlineData("eval --model {m} --max-windows 0", "max-windows must be at least 1")]
    [InlineData("eval --model {m} --seq-len 1", "seq-len must be at least 2")]
    [InlineData("eval --model {m} --tasks kit_stories --task-data hellaswag", "expected TASK=PATH, got 'hellaswag'")]
    [InlineData("eval --model {m} --tasks kit_stories --task-data piqa=/x.jsonl", "given for piqa, which is not among the tasks asked for")]
    [InlineData("eval --model {m} --tasks hellaswag --task-data hellaswag=/no/such/file.jsonl", "/no/such/file.jsonl")]
    public void Bad_eval_options_fail_with_a_clear_message(string command, string message)
    {
        var r = KitProcess.Run(TestPaths.NewTempDir(), command.Replace("{m}", TestPaths.Stories260K).Split(' '));
        Assert.Equal(1, r.ExitCode);
        Assert.Contains(message, r.Stderr);
    }
}

public sealed class EvalBosCliTests
{
    [Fact]
    public void Add_bos_token_chooses_the_policy_and_the_table_and_output_record_it()
    {
        string work = TestPaths.NewTempDir();
        var current = KitProcess.Run(work, "eval", "--model", TestPaths.Stories260K, "--tasks", "kit_stories", "--limit", "4", "--runs", "runs");
        var old = KitProcess.Run(work, "eval", "--model", TestPaths.Stories260K, "--tasks", "kit_stories", "--limit", "4", "--runs", "runs",
            "--add-bos-token", "false");
        Assert.True(current.ExitCode == 0, current.Stderr);
        Assert.True(old.ExitCode == 0, old.Stderr);
        Assert.Contains("add_bos_token=auto:true", current.Stdout);
        Assert.Contains("add_bos_token=false", old.Stdout);

        var rows = ResultsTable.Read(Path.Combine(work, "runs"));
        Assert.Equal(["auto:true", "auto:true", "false", "false"], rows.Select(r => r.AddBosToken));
        Assert.Equal(["acc", "acc_norm", "acc", "acc_norm"], rows.Select(r => r.Metric));
    }
}
