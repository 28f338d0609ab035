using Kit.Evaluation;
using Kit.Evaluation.Results;
using Kit.Evaluation.Tasks;

namespace Kit.Tests.Evaluation;

public sealed class ModelEvaluationTests
{
    [Fact]
    public void Kit_stories_task_travels_with_kit_and_cycles_its_gold_answers()
    {
        var task = TaskRegistry.Load(TaskRegistry.KitStories);
        var documents = task.ReadDocuments().ToList();
        Assert.Equal(24, documents.Count);
        Assert.Equal(Enumerable.Range(0, 24).Select(i => i % 4), documents.Select(d => d.Gold));
        Assert.All(documents, d => Assert.Equal(4, d.Choices.Count));
        Assert.StartsWith("Story: Lily had a red ball. She threw the ball", documents[0].Requests[0].Context);
    }

    [Fact]
    public void With_a_baseline_every_task_gets_its_recovery_and_the_mean_over_tasks()
    {
        // A W3 RTN copy of stories260K against the model itself: perplexity recovery is baseline ÷ compressed, task
        // recovery compressed ÷ baseline on acc_norm, the mean weighs the two tasks alike.
        string work = TestPaths.NewTempDir(), variant = Path.Combine(work, "w3");
        Kit.Calibration.ModelCompression.Compress(TestPaths.Stories260K, variant, new Kit.Quantization.CompressionRecipe
        {
            Method = Kit.Quantization.CompressionMethod.Rtn, Scheme = "W4A16",
            Weights = new Kit.Quantization.QuantizationArgs { NumBits = 3, Strategy = Kit.Quantization.QuantizationStrategy.Channel, GroupSize = null },
        }, null, new Kit.Calibration.SequentialOptions { Device = "cpu", Format = Kit.Calibration.SaveFormat.Dense });
        var run = ModelEvaluation.Run(variant, new EvaluationOptions
        {
            Tasks = ["perplexity", "kit_stories"], Baseline = TestPaths.Stories260K, Text = TestPaths.TinyStoriesText,
            SeqLen = 128, MaxWindows = 2, RunsFolder = Path.Combine(work, "runs"),
        });
        Assert.Equal(["perplexity", "kit_stories"], run.Recovery.Select(r => r.Task));
        var perplexity = run.Recovery[0];
        Assert.Equal(run.Agreement!.BaselinePerplexity / run.Perplexity!.Value, perplexity.Recovery, 12);
        Assert.InRange(perplexity.Recovery, 0.1, 0.99);
        var stories = run.Recovery[1];
        Assert.Equal("acc_norm", stories.Metric);
        Assert.Equal(run.Tasks[0].Metrics["acc_norm"].Value / stories.Baseline, stories.Recovery, 12);
        var rows = ResultsTable.Read(Path.Combine(work, "runs"));
        Assert.Equal((perplexity.Recovery + stories.Recovery) / 2, rows.Single(r => r.Task == "mean" && r.Metric == "recovery").Value, 12);
        // The baseline's own task scores are rows too, so the table shows what the ratio divides by.
        Assert.Equal(stories.Baseline, rows.Single(r => r.Model == TestPaths.Stories260K && r.Task == "kit_stories" && r.Metric == "acc_norm").Value, 12);
    }

    [Theory]
    [InlineData("perplexity", "perplexity", 5.0, 4.0, 0.8)]
    [InlineData("hellaswag", "acc_norm", 0.45, 0.5, 0.9)]
    public void Recovery_divides_the_right_way_round(string task, string metric, double compressed, double baseline, double expected)
    {
        Assert.Equal(expected, AccuracyRecovery.Of(task, metric, compressed, baseline).Recovery, 12);
    }

    [Fact]
    public void Recovery_needs_positive_scores_and_a_gap_needs_a_worse_naive_method()
    {
        Assert.Contains("positive scores", Assert.Throws<ArgumentException>(() => AccuracyRecovery.Of("piqa", "acc", 0, 0.7)).Message);
        Assert.Equal(0.75, AccuracyRecovery.GapRecovered(baseline: 4, naive: 8, method: 5), 12);
        Assert.Throws<ArgumentException>(() => AccuracyRecovery.GapRecovered(baseline: 4, naive: 4, method: 4));
        Assert.Equal("acc_norm", AccuracyRecovery.PrimaryMetric("arc_easy", ["acc", "acc_norm"]));
        Assert.Equal("acc", AccuracyRecovery.PrimaryMetric("winogrande", ["acc"]));
    }

    [Fact]
    public void A_run_records_every_task_metric_with_the_limit()
    {
        string runs = TestPaths.NewTempDir();
        var run = ModelEvaluation.Run(TestPaths.Stories260K, new EvaluationOptions
        {
            Tasks = ["kit_stories", "hellaswag"],
            TaskData = new Dictionary<string, string> { ["hellaswag"] = Path.Combine(TestPaths.RepoRoot, "data", "tasks", "kit-stories-choice.jsonl") },
            Limit = 8,
            RunsFolder = runs,
        });
        Assert.Null(run.Perplexity);
        Assert.Equal(["kit_stories", "hellaswag"], run.Tasks.Select(t => t.Task));
        // The same documents under two names score the same.
        Assert.Equal(run.Tasks[0].Metrics["acc"], run.Tasks[1].Metrics["acc"]);
        var rows = ResultsTable.Read(runs);
        Assert.Equal(4, rows.Count);
        Assert.All(rows, r => Assert.Equal((8L, (int?)8, run.RunId), (r.Count, r.Limit, r.RunId)));
        var acc = run.Tasks[0].Documents.Count(d => d.Prediction == d.Gold) / 8.0;
        Assert.Equal(acc, rows.Single(r => r.Task == "kit_stories" && r.Metric == "acc").Value, 12);
        // stories260K's tokenizer config adds BOS, and lm-eval's default (add_bos_token unset) follows it.
        Assert.All(rows, r => Assert.Equal("auto:true", r.AddBosToken));
    }

    [Fact]
    public void The_old_no_bos_default_is_an_option_and_the_table_says_which_ran()
    {
        string runs = TestPaths.NewTempDir();
        EvaluationRun Run(bool? addBos) => ModelEvaluation.Run(TestPaths.Stories260K, new EvaluationOptions
        {
            Tasks = ["perplexity", "kit_stories"], Limit = 8, Text = TestPaths.TinyStoriesText, MaxWindows = 1, SeqLen = 64, RunsFolder = runs, AddBosToken = addBos,
        });
        var current = Run(null);
        var old = Run(false);

        using var lm = Kit.Models.LanguageModel.Load(TestPaths.Stories260K);
        var source = new ModelLoglikelihood(lm, new LoglikelihoodOptions { AddBosToken = false });
        var expected = TaskScorer.Score(source, TaskRegistry.Load(TaskRegistry.KitStories), limit: 8);
        Assert.Equal(expected.Documents.SelectMany(d => d.Answers), old.Tasks[0].Documents.SelectMany(d => d.Answers));
        Assert.NotEqual(current.Tasks[0].Documents[0].Answers[0].LogProb, old.Tasks[0].Documents[0].Answers[0].LogProb, 3);

        var rows = ResultsTable.Read(runs);
        Assert.Equal(["auto:true", "auto:true", "false", "false"], rows.Where(r => r.Task == "kit_stories").Select(r => r.AddBosToken));
        Assert.All(rows.Where(r => r.Task == "perplexity"), r => Assert.Null(r.AddBosToken));
    }
}
