namespace Kit.Evaluation.Results;

/// <summary>One score of one model on one task, or one speed figure of one model, a row of the results table.</summary>
/// <param name="RunId">Identifies the <c>kit eval</c> run (or notebook call) that produced the row.</param>
/// <param name="Time">When the run started, UTC.</param>
/// <param name="Model">The model evaluated (folder, hub id or file, as given).</param>
/// <param name="Baseline">The model compared against, for agreement metrics; null otherwise.</param>
/// <param name="Task">perplexity, agreement, layer_error, hellaswag, arc_easy, ...; "speed" or "machine" for speed rows.</param>
/// <param name="Metric">acc, acc_norm, perplexity, kl_mean, top1_agreement, relative_error, ...; ttft_ms, decode_tokens_per_s, ... for speed rows.</param>
/// <param name="Value">The score.</param>
/// <param name="StdErr">Its standard error, or NaN when it has none.</param>
/// <param name="Count">Documents, positions or modules the score averages over.</param>
/// <param name="Limit">The document limit of the run, or null for a full run.</param>
/// <param name="AddBosToken">
/// For zero-shot task scores, whether BOS led the context, as lm-evaluation-harness's <c>add_bos_token</c>: "true"
/// or "false" when set, "auto:true" or "auto:false" when the tokenizer's configuration decided
/// (<see cref="Tasks.LoglikelihoodOptions.Describe"/>); null for other rows and for tables written before Kit recorded it.
/// </param>
/// <param name="Kind">
/// <see cref="ResultKinds.Accuracy"/> for <c>kit eval</c>'s scores, <see cref="ResultKinds.Speed"/> for <c>kit bench sweep</c>'s
/// figures, so that one table holds both and a DataFrame joins them by model. Rows of tables written before Kit
/// recorded it read as accuracy.
/// </param>
/// <param name="Batch">For speed rows, the sequences decoded together; null otherwise.</param>
/// <param name="PromptTokens">For speed rows, the prompt length per sequence; null otherwise.</param>
/// <param name="NewTokens">For speed rows, the tokens generated per sequence; null otherwise.</param>
public sealed record EvaluationRecord(string RunId, DateTime Time, string Model, string? Baseline, string Task, string Metric,
    double Value, double StdErr, long Count, int? Limit, string? AddBosToken = null, string Kind = ResultKinds.Accuracy,
    int? Batch = null, int? PromptTokens = null, int? NewTokens = null);

/// <summary>The kinds of rows in the results table.</summary>
public static class ResultKinds
{
    /// <summary>A quality score: perplexity, agreement, a zero-shot task.</summary>
    public const string Accuracy = "accuracy";
    /// <summary>A speed or memory figure of a sweep point, or a ceiling of the machine it ran on.</summary>
    public const string Speed = "speed";
}
