using Kit.Models;

namespace Kit.Evaluation.Tasks;

/// <summary>
/// Scores a task zero-shot with lm-evaluation-harness's rules (<c>lm_eval/api/task.py</c>,
/// <c>ConfigurableTask.process_results</c>; aggregation and standard errors from <c>lm_eval/api/metrics.py</c>).
/// </summary>
public static class TaskScorer
{
    /// <summary>Scores <paramref name="task"/> with <paramref name="model"/> (see <see cref="ModelLoglikelihood"/>).</summary>
    public static TaskResult Score(LanguageModel model, EvaluationTask task, int? limit = null, IProgress<double>? progress = null,
        LoglikelihoodOptions? options = null) =>
        Score(new ModelLoglikelihood(model, options), task, limit, progress);

    /// <summary>
    /// Scores the first <paramref name="limit"/> documents (all when null) of <paramref name="task"/>: every request of
    /// every document goes to <paramref name="source"/> in one call, so it can batch across documents.
    /// </summary>
    /// <exception cref="InvalidOperationException">The task has no documents.</exception>
    public static TaskResult Score(ILoglikelihoodSource source, EvaluationTask task, int? limit = null, IProgress<double>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(task);
        var documents = task.ReadDocuments(limit).ToList();
        if (documents.Count == 0) throw new InvalidOperationException($"task {task.Name} has no documents in {task.Description}");
        var answers = source.Score(documents.SelectMany(d => d.Requests).ToList(), progress);

        var scores = new List<DocumentScore>(documents.Count);
        int next = 0;
        foreach (var document in documents)
        {
            var mine = answers.Skip(next).Take(document.Requests.Count).ToList();
            next += document.Requests.Count;
            scores.Add(new DocumentScore(document.Gold, mine,
                ArgMax(mine.Select(a => a.LogProb)),
                ArgMax(mine.Select((a, i) => a.LogProb / Characters(document.Choices[i])))));
        }

        var metrics = new Dictionary<string, MetricValue>();
        foreach (string metric in task.Metrics)
            metrics[metric] = metric switch
            {
                TaskMetrics.Acc when task.Output == TaskOutput.Loglikelihood => Mean(scores.Select(s => s.Answers[0].IsGreedy ? 1.0 : 0.0)),
                TaskMetrics.Acc => Mean(scores.Select(s => s.Prediction == s.Gold ? 1.0 : 0.0)),
                TaskMetrics.AccNorm => Mean(scores.Select(s => s.NormalizedPrediction == s.Gold ? 1.0 : 0.0)),
                _ => Perplexity(scores.Select(s => s.Answers[0].LogProb).ToList()),
            };
        return new TaskResult(task.Name, documents.Count, metrics, scores);
    }

    static MetricValue Mean(IEnumerable<double> values)
    {
        var list = values.ToList();
        return new MetricValue(SampleStatistics.Mean(list), SampleStatistics.MeanStdErr(list));
    }

    /// <summary>
    /// <c>perplexity</c> aggregation: exp(−mean log-likelihood). lm-evaluation-harness bootstraps its standard error
    /// (100,000 resamples of Python's seeded RNG); Kit uses the delta method, exp(−m)·stderr(m), which the bootstrap
    /// estimates, so the two agree to within the bootstrap's own noise.
    /// </summary>
    static MetricValue Perplexity(IReadOnlyList<double> logLikelihoods)
    {
        double value = Math.Exp(-SampleStatistics.Mean(logLikelihoods));
        return new MetricValue(value, value * SampleStatistics.MeanStdErr(logLikelihoods));
    }

    /// <summary>
    /// The length <c>acc_norm</c> divides by: <c>len(choice)</c> in <c>process_results</c>, a count of Unicode code
    /// points (equal to the byte count for ASCII text), without the target delimiter.
    /// </summary>
    internal static int Characters(string choice) => choice.EnumerateRunes().Count();

    /// <summary>numpy's argmax: the first index of the largest value.</summary>
    static int ArgMax(IEnumerable<double> values)
    {
        int best = 0, index = 0;
        double max = double.NegativeInfinity;
        foreach (double v in values)
        {
            if (v > max || index == 0) (max, best) = (v, index);
            index++;
        }
        return best;
    }
}
