using Kit.Runtime;
using static TorchSharp.torch;

namespace Kit.Calibration;

/// <summary>
/// Accumulates the layer-wise Hessian H = 2/n Σ x xᵀ of a Linear's inputs over n calibration sequences,
/// as a running mean like the GPTQ reference's <c>add_batch</c> (so that its scale does not grow with n).
/// </summary>
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
