namespace Kit.Evaluation.Tasks;

/// <summary>A metric over a task's documents.</summary>
/// <param name="Value">The metric.</param>
/// <param name="StdErr">Its standard error; NaN with fewer than two documents.</param>
public readonly record struct MetricValue(double Value, double StdErr);

/// <summary>How the model answered one document.</summary>
/// <param name="Gold">The index of the right choice.</param>
/// <param name="Answers">Log-likelihood and greedy flag per choice, in choice order.</param>
/// <param name="Prediction">The choice with the highest log-likelihood (first on ties).</param>
/// <param name="NormalizedPrediction">The choice with the highest log-likelihood per character (first on ties).</param>
public sealed record DocumentScore(int Gold, IReadOnlyList<Loglikelihood> Answers, int Prediction, int NormalizedPrediction);

/// <summary>The scores of one task.</summary>
/// <param name="Task">The task name.</param>
/// <param name="Count">Documents scored.</param>
/// <param name="Metrics">Each reported metric by name (<see cref="TaskMetrics"/>).</param>
/// <param name="Documents">Per-document answers, in dataset order, for agreement between models.</param>
public sealed record TaskResult(string Task, int Count, IReadOnlyDictionary<string, MetricValue> Metrics, IReadOnlyList<DocumentScore> Documents);
