namespace Kit.Evaluation.Tasks;

/// <summary>The metric names, as lm-evaluation-harness reports them.</summary>
public static class TaskMetrics
{
    /// <summary>
    /// Accuracy: for multiple choice, the highest log-likelihood is the gold choice; for a log-likelihood task, the
    /// continuation is the model's greedy output.
    /// </summary>
    public const string Acc = "acc";

    /// <summary>Accuracy when each choice's log-likelihood is divided by the choice's length in characters.</summary>
    public const string AccNorm = "acc_norm";

    /// <summary>exp(−mean log-likelihood of the continuation) over documents (LAMBADA).</summary>
    public const string Perplexity = "perplexity";

    /// <summary>The metrics a task of <paramref name="output"/> can report.</summary>
    public static IReadOnlyList<string> For(TaskOutput output) => output == TaskOutput.MultipleChoice ? [Acc, AccNorm] : [Acc, Perplexity];
}
