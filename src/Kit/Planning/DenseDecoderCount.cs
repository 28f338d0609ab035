using System.Text.Json.Nodes;

namespace Kit.Planning;

/// <summary>
/// Parameters of a dense Llama-family decoder (Llama 2/3, Mistral, Qwen2, TinyLlama, SmolLM) from its config.json:
/// embeddings V×H; per layer q (heads·d × H), k and v (kv·d × H), o (H × heads·d), gate and up (I × H), down
/// (H × I) and two RMSNorm weights; a final norm; lm_head V×H unless tied to the embeddings. Qwen2 adds q/k/v
/// biases; Llama's <c>attention_bias</c> adds all four, <c>mlp_bias</c> the three MLP biases.
/// </summary>
internal static class DenseDecoderCount
{
    public static readonly string[] ModelTypes = ["llama", "mistral", "qwen2"];

    public static ModelFootprint Count(JsonObject json, string type, string source)
    {
        long hidden = ConfigFields.Required(json, "hidden_size", source);
        long intermediate = ConfigFields.Required(json, "intermediate_size", source);
        int layers = (int)ConfigFields.Required(json, "num_hidden_layers", source);
        long vocab = ConfigFields.Required(json, "vocab_size", source);
        long heads = ConfigFields.Required(json, "num_attention_heads", source);
        long kvHeads = ConfigFields.Optional(json, "num_key_value_heads", source, heads);
        long headDim = ConfigFields.Optional(json, "head_dim", source, hidden / heads);
        bool qwen2 = type == "qwen2";
        bool attentionBias = ConfigFields.Bool(json, "attention_bias", source) ?? false;
        bool qkvBias = qwen2 || attentionBias;
        bool outputBias = !qwen2 && attentionBias;
        bool mlpBias = ConfigFields.Bool(json, "mlp_bias", source) ?? false;
        bool tied = ConfigFields.Bool(json, "tie_word_embeddings", source) ?? false;

        var tensors = new List<WeightTensor> { new("embeddings", vocab, hidden, 1, false) };
        tensors.AddRange(AttentionTensors(hidden, heads, kvHeads, headDim, layers));
        if (qkvBias) tensors.Add(new("attention", (heads + 2 * kvHeads) * headDim, 1, layers, false));
        if (outputBias) tensors.Add(new("attention", hidden, 1, layers, false));
        tensors.AddRange(MlpTensors("mlp", hidden, intermediate, layers));
        if (mlpBias) tensors.Add(new("mlp", 2 * intermediate + hidden, 1, layers, false));
        tensors.Add(new("norms", hidden, 1, 2L * layers + 1, false));
        if (!tied) tensors.Add(new("lm_head", vocab, hidden, 1, false));

        var windows = new int?[layers];
        long? window = ConfigFields.Long(json, "sliding_window", source);
        if (window is > 0)
        {
            // Mistral slides over every layer; Qwen2 only when use_sliding_window is set, and only from
            // layer max_window_layers on (transformers' Qwen2Attention).
            bool slide = ConfigFields.Bool(json, "use_sliding_window", source) ?? !qwen2;
            long from = qwen2 ? ConfigFields.Long(json, "max_window_layers", source) ?? 0 : 0;
            if (slide)
                for (long i = from; i < layers; i++) windows[i] = (int)window.Value;
        }
        var layout = new AttentionLayout((int)heads, (int)kvHeads, (int)headDim, windows).Validated();
        return new ModelFootprint
        {
            Source = source,
            ModelType = type,
            Tensors = tensors,
            Attention = layout,
            MaxContext = ConfigFields.Long(json, "max_position_embeddings", source),
            Notes = tied ? ["lm_head is tied to the embeddings and counted once"] : [],
        };
    }

    /// <summary>q, k, v and o projections (no biases) of <paramref name="layers"/> layers.</summary>
    public static IEnumerable<WeightTensor> AttentionTensors(long hidden, long heads, long kvHeads, long headDim, long layers)
    {
        yield return new("attention", heads * headDim, hidden, layers, true);
        yield return new("attention", kvHeads * headDim, hidden, 2 * layers, true);
        yield return new("attention", hidden, heads * headDim, layers, true);
    }

    /// <summary>A SwiGLU MLP's gate and up (I × H) and down (H × I) projections, <paramref name="count"/> times.</summary>
    public static IEnumerable<WeightTensor> MlpTensors(string component, long hidden, long intermediate, long count)
    {
        yield return new(component, intermediate, hidden, 2 * count, true);
        yield return new(component, hidden, intermediate, count, true);
    }
}
