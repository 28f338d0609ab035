namespace Kit.Inference.Kernels;

/// <summary>What the CPU kernels of <see cref="QuantizedMatmul"/> multiply the packed weight with.</summary>
public enum KernelActivations
{
    /// <summary>
    /// x in float32 against weights decoded to float32: the product with the dequantized weight, up to float32
    /// rounding. The reference for weight-only layers (W4A16, W8A16), and the slower path.
    /// </summary>
    Float32,
    /// <summary>
    /// x quantized to int8 per 32-column block of the packed row (scale = the block's absmax / 127, llama.cpp's
    /// Q8_0), then integer dot products: the fast weight-only path. Each activation moves by at most half its
    /// block's scale, about 0.4 % of the block's largest value.
    /// </summary>
    Int8PerBlock,
    /// <summary>x quantized to int8 per token (scale = the row's absmax / 127): W8A8's int8-dynamic-token, int8 weights only.</summary>
    Int8PerToken,
}
