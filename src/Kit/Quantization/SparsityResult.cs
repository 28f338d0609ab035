using static TorchSharp.torch;

namespace Kit.Quantization;

/// <summary>A pruned (and, for SparseGPT's joint mode, quantized) weight and how it was obtained.</summary>
/// <param name="Weight">The pruned weight [out, in] in the input's dtype and layout; pruned entries are exactly 0.</param>
/// <param name="Mask">Bool [out, in]: true where the method pruned the weight.</param>
/// <param name="Quantized">Codes and grids when SparseGPT quantized jointly; null otherwise.</param>
/// <param name="Loss">
/// SparseGPT's own estimate ½ Σ (w − q)² / [H⁻¹]ᵢᵢ of the output error (the reference's <c>Losses</c>
/// summed); NaN for methods that do not use the inverse Hessian.
/// </param>
/// <param name="Damping">Fraction of mean(diag H) added to H (after any retries); 0 where no Hessian is inverted.</param>
/// <param name="Elapsed">Wall time of the pruning.</param>
public sealed record SparsityResult(Tensor Weight, Tensor Mask, QuantizedWeight? Quantized, double Loss, double Damping, TimeSpan Elapsed) : IDisposable
{
    /// <summary>Fraction of the weights the mask prunes.</summary>
    public double Sparsity
    {
        get
        {
            using var scope = NewDisposeScope();
            return Mask.to_type(ScalarType.Float64).mean().item<double>();
        }
    }

    /// <summary>Keeps the tensors alive past the caller's dispose scope.</summary>
    public SparsityResult MoveToOuterDisposeScope()
    {
        Weight.MoveToOuterDisposeScope();
        Mask.MoveToOuterDisposeScope();
        Quantized?.MoveToOuterDisposeScope();
        return this;
    }

    /// <summary>Frees the tensors.</summary>
    public void Dispose()
    {
        Weight.Dispose();
        Mask.Dispose();
        Quantized?.Dispose();
    }
}
