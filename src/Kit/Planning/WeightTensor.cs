namespace Kit.Planning;

/// <summary>
/// <paramref name="Count"/> parameter matrices of one shape that play the same part in a model, such as the
/// query projections of all layers. Vectors (norms, biases) are matrices of one column.
/// </summary>
/// <param name="Component">The part they play: embeddings, attention, mlp, experts, shared experts, router, norms, lm_head, vision tower.</param>
/// <param name="Rows">Output features: the rows a per-channel scale is given to.</param>
/// <param name="Columns">Input features: the dimension groups run along.</param>
/// <param name="Count">How many matrices of this shape there are.</param>
/// <param name="Quantizable">
/// Whether a weight scheme quantizes them. Linear layers of the language model are; embeddings, lm_head, norms,
/// biases, the MoE router and the vision tower stay at 16 bits, as in llm-compressor's schemes and its Llama 4
/// examples (<c>ignore: ["lm_head"]</c>; embeddings are not Linear).
/// </param>
public sealed record WeightTensor(string Component, long Rows, long Columns, long Count, bool Quantizable)
{
    /// <summary>Rows × columns × count.</summary>
    public long Parameters => checked(Rows * Columns * Count);
}
