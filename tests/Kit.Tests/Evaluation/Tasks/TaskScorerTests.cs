using Kit.Evaluation.Tasks;

namespace Kit.Tests.Evaluation.Tasks;

public sealed class TaskScorerTests
{
    /// <summary>Answers from a table keyed by (context, continuation); records what it was asked.</summary>
    sealed class TableSource(Dictionary<(string, string), Loglikelihood> table) : ILoglikelihoodSource
    {
        public List<LoglikelihoodRequest> Asked { get; } = [];

        public IReadOnlyList<Loglikelihood> Score(IReadOnlyList<LoglikelihoodRequest> requests, IProgress<double>? progress = null)
        {
            Asked.AddRange(requests);
            return requests.Select(r => table[(r.Context, r.Continuation)]).ToList();
        }
    }

    static EvaluationTask Task(TaskOutput output, string[] metrics, params TaskDocument[] documents) =>
        new("fake", output, metrics, "in memory", () => documents);

    // Three documents, with the per-character lengths chosen so acc and acc_norm disagree on the first.
    static readonly TaskDocument[] ChoiceDocuments =
    [
        TaskDocument.MultipleChoice("q1", ["a", "bbbb"], gold: 1),
        TaskDocument.MultipleChoice("q2", ["cc", "d"], gold: 0),
        TaskDocument.MultipleChoice("q3", ["ee", "ff"], gold: 0),
    ];

    static TableSource ChoiceSource() => new(new()
    {
        // q1: " a" wins on total (−2 > −4) but " bbbb" wins per character (−4/4 = −1 > −2/1).
        [("q1", " a")] = new(-2.0, false), [("q1", " bbbb")] = new(-4.0, false),
        // q2: " cc" wins both ways (−1 vs −3; −0.5 vs −3).
        [("q2", " cc")] = new(-1.0, false), [("q2", " d")] = new(-3.0, false),
        // q3: " ff" wins both ways (−1 vs −5), but the gold is " ee".
        [("q3", " ee")] = new(-5.0, false), [("q3", " ff")] = new(-1.0, false),
    });

    [Fact]
    public void Acc_takes_the_highest_total_and_acc_norm_the_highest_per_character()
    {
        var result = TaskScorer.Score(ChoiceSource(), Task(TaskOutput.MultipleChoice, [TaskMetrics.Acc, TaskMetrics.AccNorm], ChoiceDocuments));

        Assert.Equal(3, result.Count);
        Assert.Equal([0, 0, 1], result.Documents.Select(d => d.Prediction));
        Assert.Equal([1, 0, 1], result.Documents.Select(d => d.NormalizedPrediction));
        // acc = [0, 1, 0]: mean 1/3; sample variance ((1/3)² + (2/3)² + (1/3)²)/2 = 1/3; stderr √(1/3 / 3) = 1/3.
        Assert.Equal(1.0 / 3, result.Metrics[TaskMetrics.Acc].Value, 12);
        Assert.Equal(1.0 / 3, result.Metrics[TaskMetrics.Acc].StdErr, 12);
        // acc_norm = [1, 1, 0]: mean 2/3, the same spread.
        Assert.Equal(2.0 / 3, result.Metrics[TaskMetrics.AccNorm].Value, 12);
        Assert.Equal(1.0 / 3, result.Metrics[TaskMetrics.AccNorm].StdErr, 12);
    }

    [Fact]
    public void Acc_norm_counts_characters_not_utf8_bytes_as_lm_eval_len_does()
    {
        // Per character: −2/2 = −1 beats −2.2/2 = −1.1. Per UTF-8 byte "éé" (4 bytes) would win: −0.55 > −1.
        var doc = TaskDocument.MultipleChoice("q", ["ab", "éé"], gold: 0);
        var source = new TableSource(new() { [("q", " ab")] = new(-2.0, false), [("q", " éé")] = new(-2.2, false) });

        var result = TaskScorer.Score(source, Task(TaskOutput.MultipleChoice, [TaskMetrics.AccNorm], doc));

        Assert.Equal(0, Assert.Single(result.Documents).NormalizedPrediction);
        Assert.Equal(1.0, result.Metrics[TaskMetrics.AccNorm].Value);
        Assert.True(double.IsNaN(result.Metrics[TaskMetrics.AccNorm].StdErr));
    }

    [Fact]
    public void Loglikelihood_task_reports_greedy_accuracy_and_perplexity()
    {
        TaskDocument Doc(string context) => new([new LoglikelihoodRequest(context, " w")], 0, [" w"]);
        var source = new TableSource(new()
        {
            [("a", " w")] = new(-1.0, true), [("b", " w")] = new(-2.0, false), [("c", " w")] = new(-3.0, true),
        });

        var result = TaskScorer.Score(source, Task(TaskOutput.Loglikelihood, [TaskMetrics.Perplexity, TaskMetrics.Acc], Doc("a"), Doc("b"), Doc("c")));

        // perplexity = exp(−mean(−1, −2, −3)) = e²; the log-likelihoods' sample sd is 1, so stderr(mean) = 1/√3.
        Assert.Equal(Math.Exp(2), result.Metrics[TaskMetrics.Perplexity].Value, 12);
        Assert.Equal(Math.Exp(2) / Math.Sqrt(3), result.Metrics[TaskMetrics.Perplexity].StdErr, 12);
        Assert.Equal(2.0 / 3, result.Metrics[TaskMetrics.Acc].Value, 12);
        Assert.Equal(1.0 / 3, result.Metrics[TaskMetrics.Acc].StdErr, 12);
    }

    [Fact]
    public void Limit_sends_only_the_first_documents_requests()
    {
        var source = ChoiceSource();
        var result = TaskScorer.Score(source, Task(TaskOutput.MultipleChoice, [TaskMetrics.Acc], ChoiceDocuments), limit: 2);

        Assert.Equal(2, result.Count);
        Assert.Equal(["q1", "q1", "q2", "q2"], source.Asked.Select(r => r.Context));
        // acc = [0, 1]: mean 1/2, sample sd √(1/2), stderr √(1/2)/√2 = 1/2.
        Assert.Equal(0.5, result.Metrics[TaskMetrics.Acc].Value, 12);
        Assert.Equal(0.5, result.Metrics[TaskMetrics.Acc].StdErr, 12);
    }

    [Fact]
    public void Metric_that_does_not_fit_the_output_is_refused()
    {
        var e = Assert.Throws<ArgumentException>(() => Task(TaskOutput.Loglikelihood, [TaskMetrics.AccNorm]));
        Assert.Contains("acc_norm", e.Message);
    }
}
