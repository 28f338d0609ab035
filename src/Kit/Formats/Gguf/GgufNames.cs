using Kit.Models;

namespace Kit.Formats.Gguf;

/// <summary>llama.cpp's tensor names for a Llama model and their Hugging Face counterparts.</summary>
internal static class GgufNames
{
    /// <summary>Per-layer parts: GGUF <c>blk.N.{gguf}.weight</c> is Hugging Face <c>model.layers.N.{hf}.weight</c>.</summary>
    static readonly (string Gguf, string Hf)[] LayerParts =
    [
        ("attn_norm", "input_layernorm"),
        ("attn_q", "self_attn.q_proj"),
        ("attn_k", "self_attn.k_proj"),
        ("attn_v", "self_attn.v_proj"),
        ("attn_output", "self_attn.o_proj"),
        ("ffn_norm", "post_attention_layernorm"),
        ("ffn_gate", "mlp.gate_proj"),
        ("ffn_up", "mlp.up_proj"),
        ("ffn_down", "mlp.down_proj"),
    ];

    public const string TokenEmbedding = "token_embd.weight";
    public const string OutputNorm = "output_norm.weight";
    public const string Output = "output.weight";

    /// <summary>Every (GGUF, Hugging Face) weight name of <paramref name="config"/>, in llama.cpp's converter order; no output head when tied.</summary>
    public static IEnumerable<(string Gguf, string Hf)> All(ModelConfig config)
    {
        yield return (TokenEmbedding, "model.embed_tokens.weight");
        for (int i = 0; i < config.NumHiddenLayers; i++)
            foreach (var (gguf, hf) in LayerParts)
                yield return ($"blk.{i}.{gguf}.weight", $"model.layers.{i}.{hf}.weight");
        yield return (OutputNorm, "model.norm.weight");
        if (!config.TieWordEmbeddings) yield return (Output, "lm_head.weight");
    }

    /// <summary>The Hugging Face name of a GGUF tensor, or null when it is not one of a Llama model's weights.</summary>
    public static string? ToHf(string gguf)
    {
        switch (gguf)
        {
            case TokenEmbedding: return "model.embed_tokens.weight";
            case OutputNorm: return "model.norm.weight";
            case Output: return "lm_head.weight";
        }
        var parts = gguf.Split('.');
        if (parts.Length != 4 || parts[0] != "blk" || parts[3] != "weight" || !int.TryParse(parts[1], out int layer) || layer < 0) return null;
        foreach (var (g, hf) in LayerParts)
            if (g == parts[2]) return $"model.layers.{layer}.{hf}.weight";
        return null;
    }

    /// <summary>The layer of a Hugging Face parameter name, or null for the embedding, final norm and head.</summary>
    public static int? LayerOf(string hf) =>
        hf.StartsWith("model.layers.", StringComparison.Ordinal) ? int.Parse(hf.Split('.')[2]) : null;

    /// <summary>Whether llama.cpp stores this weight with its rows permuted (q_proj and k_proj), and with how many heads.</summary>
    public static int? PermutationHeads(string hf, ModelConfig config) =>
        hf.EndsWith(".self_attn.q_proj.weight", StringComparison.Ordinal) ? config.NumAttentionHeads
        : hf.EndsWith(".self_attn.k_proj.weight", StringComparison.Ordinal) ? config.NumKeyValueHeads
        : null;
}
