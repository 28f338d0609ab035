using Kit.Runtime;
using static TorchSharp.torch;

namespace Kit.Quantization.Transforms;

/// <summary>
/// SmoothQuant's per-input-channel scales (Xiao et al., 2023, eq. 4): s_j = max|X_j|^α / max|W_:,j|^(1−α), with the
/// activations' range and the weights' maximum taken as llm-compressor's <c>SmoothQuantModifier</c> takes them.
/// </summary>
public static class SmoothQuantScales
{
    /// <summary>The smallest scale (llm-compressor's <c>MINIMUM_SMOOTHING_SCALE</c>), so no channel is divided by zero.</summary>
    public const double MinimumScale = 1e-5;

    /// <summary>
    /// s [in] for the Linears <paramref name="weights"/> (each [out_i, in]) whose inputs ranged over
    /// [<paramref name="inputMin"/>, <paramref name="inputMax"/>] per channel: the activation term is that range
    /// (max − min, as llm-compressor's observer), the weight term twice the largest |w| of the column over all the
    /// Linears; a column of zero weights keeps the activation term alone.
    /// </summary>
    public static Tensor Compute(IReadOnlyList<Tensor> weights, Tensor inputMin, Tensor inputMax, SmoothQuantOptions options)
    {
        if (options.Strength is < 0 or > 1 || double.IsNaN(options.Strength))
            throw new ArgumentException($"SmoothQuant's smoothing strength must lie in [0, 1], got {options.Strength}");
        using var scope = NewDisposeScope();
        var activation = (inputMax - inputMin).to_type(ScalarType.Float32).clamp_min(HeldScalars.Of(MinimumScale));
        var weight = cat(weights.Select(w => w.to_type(ScalarType.Float32).abs().amax(new long[] { 0 }, keepdim: true)).ToArray(), 0)
            .amax(new long[] { 0 }).to(activation.device).Times(2.0);
        var s = activation.pow(HeldScalars.Of(options.Strength)) / weight.pow(HeldScalars.Of(1 - options.Strength));
        return where(weight.gt(HeldScalars.Of(0)), s, activation).clamp_min(HeldScalars.Of(MinimumScale)).MoveToOuterDisposeScope();
    }
}
