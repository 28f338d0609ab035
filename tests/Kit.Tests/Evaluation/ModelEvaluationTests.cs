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
