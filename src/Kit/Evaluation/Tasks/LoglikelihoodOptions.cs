namespace Kit.Evaluation.Tasks;

/// <summary>How <see cref="ModelLoglikelihood"/> runs the model.</summary>
public sealed record LoglikelihoodOptions
{
    /// <summary>Requests per forward pass; longer requests go first so the largest batch is the first one.</summary>
    public int BatchSize { get; init; } = 16;

    /// <summary>Context length in tokens (inputs are cut from the left to fit); null means the model's <c>max_position_embeddings</c>.</summary>
    public int? MaxLength { get; init; }

    /// <summary>
    /// Adds the tokenizer's special tokens (BOS) to context and context + continuation. Off by default, as in
    /// lm-evaluation-harness's <c>HFLM</c> (<c>add_bos_token=False</c>) whose published scores Kit matches.
    /// </summary>
    public bool AddBos { get; init; }
}
