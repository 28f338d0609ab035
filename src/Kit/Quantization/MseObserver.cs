using static TorchSharp.torch;
using Kit.Runtime;

namespace Kit.Quantization;

/// <summary>
/// The GPTQ reference's clipping search (<c>quant.py::Quantizer.find_params</c> with <c>mse=True</c>):
/// shrink each row's range [min, max] by p = 1 − i/grid, i = 0 … int(maxshrink·grid) − 1, and keep per row
/// the grid with the least Σ|q(x) − x|^norm. Outliers then cost clipping error instead of stretching the
/// step for every other value. llm-compressor's <c>mse</c> observer is the same search with maxshrink 0.2
/// and an early stop after 5 candidates without improvement, which this omits as the reference does.
/// </summary>
internal static class MseObserver
{
    /// <summary>Scale and zero point per row of <paramref name="x"/> [rows, cols], whose ranges are [min, max] (both including zero).</summary>
    public static (Tensor Scale, Tensor ZeroPoint) Search(Tensor x, Tensor min, Tensor max, QuantizationArgs args)
    {
        using var scope = NewDisposeScope();
        // p = 1 is the min-max grid, so the search can only improve on it.
        var (scale, zero) = Quantizer.FromRange(min, max, args);
        var best = Error(x, scale, zero, args);
        for (int i = 1; i < args.MseCandidates; i++)
        {
            // Each candidate's temporaries die here: a layer's worth of them times 80 would not fit.
            using var step = NewDisposeScope();
            double p = 1 - (double)i / args.MseGrid;
            var (candidateScale, candidateZero) = Quantizer.FromRange(min.Times(p), max.Times(p), args);
            var error = Error(x, candidateScale, candidateZero, args);
            // Strictly better only: on a tie the reference keeps the wider range it saw first.
            var better = error < best;
            best.copy_(where(better, error, best));
            scale.copy_(where(better, candidateScale, scale));
            zero.copy_(where(better, candidateZero, zero));
        }
        return (scale.MoveToOuterDisposeScope(), zero.MoveToOuterDisposeScope());
    }

    static Tensor Error(Tensor x, Tensor scale, Tensor zero, QuantizationArgs args)
    {
        using var scope = NewDisposeScope();
        var q = Quantizer.FakeQuantize(x, new QuantizationParams(scale, zero), args);
        return (q - x).abs().pow(HeldScalars.Of(args.MseNorm)).sum(1, keepdim: true).MoveToOuterDisposeScope();
    }
}
