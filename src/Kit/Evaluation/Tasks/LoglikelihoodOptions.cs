namespace Kit.Evaluation.Tasks;

/// <summary>How <see cref="ModelLoglikelihood"/> runs the model.</summary>
public sealed record LoglikelihoodOptions
{
    /// <summary>Requests per forward pass; longer requests go first so the largest batch is the first one.</summary>
    public int BatchSize { get; init; } = 16;

    /// <summary>Context length in tokens (inputs are cut from the left to fit); null means the model's <c>max_position_embeddings</c>.</summary>
    public int? MaxLength { get; init; }

    /// <summary>
    /// lm-evaluation-harness's <c>add_bos_token</c> model argument. Null (the default, as in lm-eval since v0.4.9.2)
    /// leaves it to the tokenizer's configuration, so Llama-family tokenizers put BOS before the context; true puts
    /// BOS first whatever the configuration says; false adds no special token (lm-eval v0.4.0–v0.4.9.1's default).
    /// </summary>
    public bool? AddBosToken { get; init; }

    /// <summary>
    /// How a results table spells the policy: "true" or "false" when it was set, "auto:true" or "auto:false" when the
    /// tokenizer's configuration decided (and what it decided).
    /// </summary>
    public static string Describe(bool? addBosToken, bool addsBos) =>
        (addBosToken is null ? "auto:" : "") + (addsBos ? "true" : "false");
}
