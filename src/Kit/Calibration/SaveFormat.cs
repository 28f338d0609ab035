namespace Kit.Calibration;

/// <summary>How a compressed model is written (<c>kit quantize --format</c>).</summary>
public enum SaveFormat
{
    /// <summary>compressed-tensors (what vLLM serves, the default): packed codes and scales; pruned-only models stay dense.</summary>
    CompressedTensors,
    /// <summary>Plain safetensors with the compressed values as dense weights (any grid, any group size).</summary>
    Dense,
    /// <summary>
    /// A single GGUF file for llama.cpp and Ollama, written by <see cref="Kit.Formats.ModelExport"/> from the codes the
    /// pipeline hands it; the pipeline itself writes only the two folder formats.
    /// </summary>
    Gguf,
}
