using static TorchSharp.torch;

namespace Kit.Quantization;

/// <summary>
/// What a compression method (RTN, GPTQ, magnitude, Wanda, SparseGPT, or a pruning step followed by a quantization)
/// made of one layer's weight: the one result type of every method.
/// </summary>
/// <param name="Weight">The compressed weight as values, [out, in] in the input's layout, dtype and device; pruned
/// entries are exactly 0.</param>
/// <param name="Quantized">Codes and grids whose <see cref="QuantizedWeight.Dequantize"/> in float32 equals
/// <paramref name="Weight"/> read in float32, bit for bit; null when nothing was quantized.</param>
/// <param name="Mask">Bool [out, in], true where the method pruned the weight; null when nothing was pruned.</param>
/// <param name="Loss">The method's own error estimate ½ Σ (w − q)² / [H⁻¹]ᵢᵢ (GPTQ's and SparseGPT's <c>Losses</c>
/// summed); NaN for methods that do not use the inverse Hessian.</param>
/// <param name="Damping">The dampening fraction λ / mean(diag H) that made H positive definite (after any retries);
/// 0 where no Hessian is inverted.</param>
/// <param name="Elapsed">Wall time of the algorithm.</param>
public sealed record CompressionResult(
    Tensor Weight, QuantizedWeight? Quantized, Tensor? Mask, double Loss, double Damping, TimeSpan Elapsed) : IDisposable
{
    /// <summary>Fraction of the weights the mask prunes; 0 without a mask.</summary>
    public double Sparsity
    {
        get
        {
            if (Mask is null) return 0;
            using var scope = NewDisposeScope();
            return Mask.to_type(ScalarType.Float64).mean().item<double>();
        }
    }

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
