using Kit.Runtime;
using static TorchSharp.torch;

namespace Kit.Calibration;

/// <summary>
/// Accumulates the layer-wise Hessian H = 2/n Σ x xᵀ of a Linear's inputs over n calibration sequences,
/// as a running mean like the GPTQ reference's <c>add_batch</c> (so that its scale does not grow with n).
/// </summary>
/// <remarks>
/// Each batch of inputs is converted to H's dtype as it arrives (no full-precision copy of the activations is kept).
/// Where those inputs are bfloat16 or float16 values, every product of two of them is exact in float32 (8- or
/// 11-bit significands make at most 22 bits), so Σ x xᵀ differs from the exact sum only by float32's rounding of the
/// additions. Like the reference (<c>inp.float()</c>, then <c>math.sqrt(2 / nsamples) * inp</c>), the inputs are
/// scaled by √(2/n) before they are multiplied, which rounds each scaled value to float32 first: H is the
/// reference's H, not the exact one. A float64 H (<see cref="SequentialOptions.HessianDType"/>) makes the additions
/// exact to 2⁻⁵³. The layer-by-layer pipeline runs each layer in its compute dtype (float32 by default) on
/// activations kept in the model's dtype, so for a bfloat16 model a Linear's inputs are float32 values computed
/// from bfloat16 ones.
/// </remarks>
public sealed class HessianAccumulator : IDisposable
{
    /// <summary>Inputs [in, in] in <paramref name="dtype"/> (float32 as the reference, or float64) on <paramref name="device"/>.</summary>
    public HessianAccumulator(long inFeatures, Device device, ScalarType dtype = ScalarType.Float32)
    {
        H = zeros(inFeatures, inFeatures, dtype, device).DetachFromDisposeScope();
    }

    /// <summary>The accumulated Hessian.</summary>
    public Tensor H { get; }

    /// <summary>Sequences seen (the reference's n: batches count sequences, not tokens).</summary>
    public long Samples { get; private set; }

    /// <summary>Adds inputs [batch, tokens, in] or [tokens, in] (one sequence).</summary>
    public void Add(Tensor input)
    {
        using var scope = NewDisposeScope();
        long batch = input.dim() == 3 ? input.shape[0] : 1;
        var x = input.reshape(-1, input.shape[^1]).to(H.device).to_type(H.dtype);
        H.TimesInPlace((double)Samples / (Samples + batch));
        Samples += batch;
        x = x.Times(Math.Sqrt(2.0 / Samples));
        H.PlusInPlace(x.T.matmul(x));
    }

    /// <summary>Frees the matrix.</summary>
    public void Dispose() => H.Dispose();
}
