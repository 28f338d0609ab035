using Kit.Quantization;

namespace Kit.Formats.Gguf;

/// <summary>How to export a model to GGUF.</summary>
public sealed record GgufExportOptions
{
    /// <summary>
    /// The type of the Linear weights: F32, F16, Q8_0 or Q4_0. Norms stay F32; the embedding and output head
    /// follow this type, except that a Q4_0 file keeps them in Q8_0 (llama.cpp keeps the output head above
    /// 4 bits too). Rows whose length is not a multiple of 32 fall back to F16, as llama.cpp's converter does.
    /// </summary>
    public GgmlType TensorType { get; init; } = GgmlType.F16;

    /// <summary>
    /// Codes and grids per Linear module name (<c>model.layers.0.self_attn.q_proj</c>, <c>lm_head</c>); these
    /// modules are written from their codes (lossless where the grid maps onto Q4_0/Q4_1/Q8_0, see
    /// <see cref="QuantizedWeightBlocks"/>) whatever <see cref="TensorType"/> says.
    /// </summary>
    public IReadOnlyDictionary<string, QuantizedWeight>? QuantizedWeights { get; init; }

    /// <summary><c>general.name</c>; null uses the model folder's name or the hub id.</summary>
    public string? Name { get; init; }

    /// <summary>
    /// <c>tokenizer.ggml.pre</c> for a byte-level BPE tokenizer; null detects it from tokenizer.json's split
    /// rules ("gpt-2", "llama-bpe", "qwen2", "smollm") and refuses rules it does not know.
    /// </summary>
    public string? PreTokenizer { get; init; }
}
