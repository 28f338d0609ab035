using Kit.Runtime;
using static TorchSharp.torch;

namespace Kit.Calibration;

/// <summary>
/// Accumulates what GPTAQ needs of one Linear's inputs (<see cref="Kit.Quantization.Gptaq"/>): H = 2/n Σ x̃ x̃ᵀ over the
/// compressed model's inputs x̃, and A = 2/n Σ (x − x̃) x̃ᵀ against the original model's inputs x for the same tokens,
/// both as running means over n sequences, as the reference's <c>add_batch</c> keeps them.
/// </summary>
public sealed class AsymmetryAccumulator : IDisposable
{
    /// <summary>Matrices [in, in] in <paramref name="dtype"/> on <paramref name="device"/>.</summary>
    public AsymmetryAccumulator(long inFeatures, Device device, ScalarType dtype = ScalarType.Float32)
    {
        H = zeros(inFeatures, inFeatures, dtype, device).DetachFromDisposeScope();
        A = zeros(inFeatures, inFeatures, dtype, device).DetachFromDisposeScope();
    }

    /// <summary>2/n Σ x̃ x̃ᵀ: the compressed model's inputs' Hessian, as <see cref="HessianAccumulator.H"/>.</summary>
    public Tensor H { get; }

    /// <summary>2/n Σ (x − x̃) x̃ᵀ: how the original's inputs differ from the compressed model's, seen through the latter.</summary>
    public Tensor A { get; }

    /// <summary>Sequences seen.</summary>
    public long Samples { get; private set; }

    /// <summary>Adds the compressed model's inputs <paramref name="compressed"/> and the original's <paramref name="original"/> for the same tokens, each [batch, tokens, in].</summary>
    public void Add(Tensor compressed, Tensor original)
    {
        if (!compressed.shape.SequenceEqual(original.shape))
            throw new ArgumentException($"paired inputs must have one shape, got [{string.Join(", ", compressed.shape)}] and [{string.Join(", ", original.shape)}]");
        using var scope = NewDisposeScope();
        long batch = compressed.dim() == 3 ? compressed.shape[0] : 1;
        var xc = compressed.reshape(-1, compressed.shape[^1]).to(H.device).to_type(H.dtype);
        var x = original.reshape(-1, original.shape[^1]).to(H.device).to_type(H.dtype);
        double keep = (double)Samples / (Samples + batch);
        H.TimesInPlace(keep);
        A.TimesInPlace(keep);
        Samples += batch;
        double scale = Math.Sqrt(2.0 / Samples);
        xc = xc.Times(scale);
        H.PlusInPlace(xc.T.matmul(xc));
        A.PlusInPlace((x.Times(scale) - xc).T.matmul(xc));
    }

    /// <summary>Frees the matrices.</summary>
    public void Dispose()
    {
        H.Dispose();
        A.Dispose();
    }
}
