namespace Kit.Formats.CompressedTensors;

/// <summary>The names compressed-tensors writes into <c>quantization_config</c>, as vLLM reads them.</summary>
public static class CompressedTensorsFormats
{
    /// <summary>The <c>quant_method</c> that marks a compressed-tensors checkpoint.</summary>
    public const string QuantMethod = "compressed-tensors";

    /// <summary>Integer weights of 1–8 bits packed into int32 words (<c>weight_packed</c>): the W*A16 schemes.</summary>
    public const string PackQuantized = "pack-quantized";

    /// <summary>int8 weights stored as <c>weight</c>, with quantized activations (W8A8).</summary>
    public const string IntQuantized = "int-quantized";

    /// <summary>The older name of <see cref="IntQuantized"/>'s layout: integer weights stored unpacked in int8.</summary>
    public const string NaiveQuantized = "naive-quantized";

    /// <summary>FP8 E4M3 weights stored as <c>weight</c> (F8_E4M3).</summary>
    public const string FloatQuantized = "float-quantized";

    /// <summary>Top-level format when config groups differ; each group then names its own.</summary>
    public const string MixedPrecision = "mixed-precision";

    /// <summary>
    /// The compressed-tensors version Kit claims to write: its layout is 0.12.x's, which every reader of
    /// 4- and 8-bit packing shares (later versions only differ for widths that straddle words).
    /// </summary>
    public const string Version = "0.12.2";

    /// <summary>The only <c>quantization_status</c> whose tensors are stored compressed.</summary>
    public const string Compressed = "compressed";
}
