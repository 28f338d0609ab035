namespace Kit.Formats.Gguf;

/// <summary>Where a tensor's stored values came from.</summary>
public enum GgufTensorOrigin
{
    /// <summary>The model's dense weight, stored as is or with ggml's reference quantizer.</summary>
    Dense,
    /// <summary>A <c>QuantizedWeight</c>'s codes and scales written as blocks directly.</summary>
    Lossless,
    /// <summary>A <c>QuantizedWeight</c> whose grid does not map onto blocks: its dequantized values, requantized.</summary>
    Requantized,
}

/// <summary>What was written for one tensor.</summary>
/// <param name="Name">The GGUF name (<c>blk.0.attn_q.weight</c>).</param>
/// <param name="SourceName">The Hugging Face name (<c>model.layers.0.self_attn.q_proj.weight</c>).</param>
/// <param name="Type">The stored type.</param>
/// <param name="Origin">Where the values came from.</param>
/// <param name="MaxDeviation">The largest |stored − source| over the tensor, the source being the dense weight or the quantized weight's dequantized values.</param>
/// <param name="Note">Why a fallback was taken, or null.</param>
public sealed record GgufTensorReport(string Name, string SourceName, GgmlType Type, GgufTensorOrigin Origin, double MaxDeviation, string? Note);

/// <summary>The outcome of a GGUF export.</summary>
/// <param name="Path">The file written.</param>
/// <param name="FileBytes">Its size.</param>
/// <param name="TokenizerModel"><c>tokenizer.ggml.model</c>: "llama" or "gpt2".</param>
/// <param name="PreTokenizer"><c>tokenizer.ggml.pre</c>, for byte-level BPE.</param>
/// <param name="Tensors">Every tensor, in file order.</param>
/// <param name="Notes">What the file cannot say and the user should know (ignored settings, fallbacks).</param>
public sealed record GgufExportReport(string Path, long FileBytes, string TokenizerModel, string? PreTokenizer,
    IReadOnlyList<GgufTensorReport> Tensors, IReadOnlyList<string> Notes);
