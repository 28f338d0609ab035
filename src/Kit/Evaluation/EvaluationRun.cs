using Kit.Evaluation.Agreement;
using Kit.Evaluation.Results;
using Kit.Evaluation.Tasks;

namespace Kit.Evaluation;

/// <summary>Everything one <see cref="ModelEvaluation.Run"/> measured.</summary>
/// <param name="RunId">The run's id in the results table.</param>
/// <param name="Records">The rows appended to the results table.</param>
/// <param name="Perplexity">The model's perplexity on the evaluation text, when asked for.</param>
/// <param name="Agreement">The comparison with the baseline, when one was given.</param>
/// <param name="LayerErrors">Per-module reconstruction errors from the model's compression report (empty without one).</param>
/// <param name="Tasks">The zero-shot task scores, in the order asked for.</param>
/// <param name="Seconds">Wall time of the run.</param>
public sealed record EvaluationRun(string RunId, IReadOnlyList<EvaluationRecord> Records, PerplexityResult? Perplexity,
    AgreementResult? Agreement, IReadOnlyList<LayerError> LayerErrors, IReadOnlyList<TaskResult> Tasks, double Seconds)
{
    /// <summary>Each task's recovery against the baseline (perplexity first, then the zero-shot tasks); empty without a baseline.</summary>
    public IReadOnlyList<TaskRecovery> Recovery { get; init; } = [];
}
