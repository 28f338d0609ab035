using Kit.Models;

namespace Kit.Evaluation;

/// <summary>What <see cref="ModelEvaluation.Run"/> measures and where it records the results.</summary>
public sealed record EvaluationOptions
{
    /// <summary>Task names: <c>perplexity</c> and the zero-shot tasks of <see cref="ModelEvaluation.TaskNames"/>.</summary>
    public IReadOnlyList<string> Tasks { get; init; } = ["perplexity"];
    /// <summary>The uncompressed model to compare with (KL divergence, top-1 agreement), or null.</summary>
    public string? Baseline { get; init; }
    /// <summary>
    /// Where a zero-shot task's documents come from instead of its hub split, by task name: a Parquet or JSON Lines
    /// file, a folder of them, or another hub split (<see cref="Tasks.TaskDefinition.Load"/>).
    /// </summary>
    public IReadOnlyDictionary<string, string> TaskData { get; init; } = new Dictionary<string, string>();
    /// <summary>Documents per zero-shot task (the first N), or null for all.</summary>
    public int? Limit { get; init; }
    /// <summary>The perplexity and agreement text: a file, folder or hub dataset split (<see cref="EvaluationText.Load"/>).</summary>
    public string Text { get; init; } = EvaluationText.DefaultSpec;
    /// <summary>Window length for perplexity and agreement, capped at the model's context (2048 as in the GPTQ paper).</summary>
    public int SeqLen { get; init; } = 2048;
    /// <summary>
    /// lm-evaluation-harness's <c>add_bos_token</c> for the zero-shot tasks: null (the default, lm-eval's since
    /// v0.4.9.2) follows the tokenizer's configuration, true always puts BOS before the context, false never does
    /// (lm-eval v0.4.0–v0.4.9.1). The results table records which (<see cref="Results.EvaluationRecord.AddBosToken"/>).
    /// </summary>
    public bool? AddBosToken { get; init; }
    /// <summary>Windows of the text to score, or null for the whole text.</summary>
    public int? MaxWindows { get; init; }
    /// <summary>The runs folder whose results table the records are appended to, or null to record nothing.</summary>
    public string? RunsFolder { get; init; } = "runs";
    /// <summary>
    /// How the models are loaded (device, dtype, hub). Packed Linears multiply exact float32 activations by default
    /// (<see cref="ModelLoadOptions.ExactActivations"/>), so that scores describe the checkpoint as vLLM serves it,
    /// not Kit's faster int8-activation decode kernels.
    /// </summary>
    public ModelLoadOptions Load { get; init; } = new() { ExactActivations = true };
}
