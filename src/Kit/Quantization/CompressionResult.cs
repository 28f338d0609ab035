using static TorchSharp.torch;

namespace Kit.Quantization;

/// <summary>What GPTQ or SparseGPT made of one layer's weight.</summary>
/// <param name="Weight">The compressed weight as values, [out, in] in the input's layout, dtype and device.</param>
/// <param name="Quantized">Codes and grids whose <see cref="QuantizedWeight.Dequantize"/> in float32 equals
/// <paramref name="Weight"/> read in float32, bit for bit; null when nothing was quantized.</param>
/// <param name="Mask">Weights kept by pruning, [out, in] (bool); null when nothing was pruned.</param>
/// <param name="Loss">The reference's error sum Σ (w − q)² / Hinv[i, i]² / 2 over all weights.</param>
/// <param name="Damping">The dampening fraction λ / mean(diag H) that made H positive definite.</param>
/// <param name="Elapsed">Wall time of the algorithm.</param>
public sealed record CompressionResult(
    Tensor Weight, QuantizedWeight? Quantized, Tensor? Mask, double Loss, double Damping, TimeSpan Elapsed) : IDisposable
{
    /// <summary>Keeps the tensors alive past the caller's dispose scope.</summary>
    public CompressionResult MoveToOuterDisposeScope()
    {
        Weight.MoveToOuterDisposeScope();
        Quantized?.MoveToOuterDisposeScope();
        Mask?.MoveToOuterDisposeScope();
        return this;
    }

    /// <summary>Frees the tensors.</summary>
    public void Dispose()
    {
        Weight.Dispose();
        Quantized?.Dispose();
        Mask?.Dispose();
    }
}
