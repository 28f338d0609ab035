using Kit.Runtime;
using static TorchSharp.torch;

namespace Kit.Quantization.Transforms;

/// <summary>
/// AWQ's search for per-input-channel scales s of the Linears W_i that read the same input X (Lin et al., 2024, §3.2):
/// s* = argmin_s Σ_i ‖Q(W_i · diag(s)) · diag(s)⁻¹ · X − W_i · X‖², over s = x̄^α / w̄^(1−α) for α on a grid, where x̄ is
/// the mean |x| of each input channel and w̄ the mean of each column of |W| normalised per quantization group
/// (llm-compressor's <c>AWQModifier</c>, duo scaling). With H = 2/n Σ x xᵀ the error of one candidate is
/// Σ_i tr(Δ_i H Δ_iᵀ) · n/2, Δ_i = Q(W_i s) / s − W_i: the output error over every calibration token, from the Hessian
/// the pipeline accumulates anyway instead of one more pass over the tokens per candidate.
/// </summary>
public static class AwqScaleSearch
{
    /// <summary>What a search chose.</summary>
    /// <param name="Scales">s [in] (float32): multiply the Linears' columns by it and divide the operation before them by it.</param>
    /// <param name="Ratio">The α chosen, or null when no candidate beat leaving the weights unscaled (s = 1).</param>
    /// <param name="Duo">Whether the chosen scales divide by w̄^(1−α).</param>
    /// <param name="Error">tr(Δ H Δᵀ) summed over the Linears with the chosen scales.</param>
    /// <param name="UnscaledError">The same with s = 1, quantization alone.</param>
    public sealed record Result(Tensor Scales, double? Ratio, bool Duo, double Error, double UnscaledError);

    /// <summary>
    /// Searches scales for <paramref name="weights"/> (each [out_i, in]) whose inputs have Hessian <paramref name="hessian"/>
    /// [in, in] and mean magnitudes <paramref name="meanAbsInput"/> [in], quantizing with <paramref name="grid"/> (RTN,
    /// as AWQ does). Besides llm-compressor's candidates the unscaled weights are one too, so the chosen scales never
    /// make this error larger than quantizing without them.
    /// </summary>
    public static Result Search(IReadOnlyList<Tensor> weights, Tensor hessian, Tensor meanAbsInput, QuantizationArgs grid, AwqOptions options)
    {
        if (weights.Count == 0) throw new ArgumentException("AWQ needs at least one Linear to balance", nameof(weights));
        if (options.Grid < 1) throw new ArgumentException($"AWQ's grid needs at least one point, got {options.Grid}");
        using var scope = NewDisposeScope();
        var h = hessian.to_type(ScalarType.Float32);
        var w = weights.Select(x => x.to_type(ScalarType.Float32)).ToList();
        var xMean = meanAbsInput.to_type(ScalarType.Float32).to(h.device);
        var wMean = NormalizedColumnMeans(w, grid);
        var ones = ones_like(xMean);
        double unscaled = Error(w, h, ones, grid);
        var best = (Scales: ones, Ratio: (double?)null, Duo: false, Error: unscaled);
        var forms = options.DuoScaling switch
        {
            AwqDuoScaling.Duo => new[] { true },
            AwqDuoScaling.ActivationsOnly => new[] { false },
            _ => new[] { true, false },
        };
        foreach (bool duo in forms)
            for (int k = 0; k < options.Grid; k++)
            {
                double ratio = k / (double)options.Grid;
                var s = Candidate(xMean, wMean, ratio, duo);
                double error = Error(w, h, s, grid);
                if (error < best.Error) best = (s, ratio, duo, error);
            }
        return new Result(best.Scales.MoveToOuterDisposeScope(), best.Ratio, best.Duo, best.Error, unscaled);
    }

    /// <summary>
    /// s = x̄^α / (w̄^(1−α) + 10⁻⁴) clamped at 10⁻⁴ (or x̄^α alone), divided by √(max s · min s) so the scales straddle 1;
    /// infinite or NaN entries become 1. As llm-compressor computes them.
    /// </summary>
    public static Tensor Candidate(Tensor xMean, Tensor wMean, double ratio, bool duo)
    {
        using var scope = NewDisposeScope();
        var s = duo
            ? (xMean.pow(HeldScalars.Of(ratio)) / wMean.pow(HeldScalars.Of(1 - ratio)).Plus(1e-4)).clamp_min(HeldScalars.Of(1e-4))
            : xMean.pow(HeldScalars.Of(ratio)).clamp_min(HeldScalars.Of(1e-4));
        s = s / (s.max() * s.min()).sqrt();
        s = where(s.isfinite(), s, ones_like(s));
        return s.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// w̄: the Linears' rows stacked, each quantization group of each row divided by its largest |w| (so every group
    /// spans [0, 1]), and the mean of each column of |w| over all rows.
    /// </summary>
    public static Tensor NormalizedColumnMeans(IReadOnlyList<Tensor> weights, QuantizationArgs grid)
    {
        using var scope = NewDisposeScope();
        var w = cat(weights.Select(x => x.to_type(ScalarType.Float32)).ToArray(), 0).abs();
        long columns = w.shape[1];
        int perGroup = grid.Strategy == QuantizationStrategy.Tensor ? (int)columns : grid.ColumnsPerScale(columns);
        var parts = new List<Tensor>();
        for (long start = 0; start < columns; start += perGroup)
        {
            var group = w.narrow(1, start, Math.Min(perGroup, columns - start));
            parts.Add(group / group.amax(new long[] { 1 }, keepdim: true).Plus(1e-6));
        }
        return cat(parts.ToArray(), 1).mean(new long[] { 0 }).MoveToOuterDisposeScope();
    }

    /// <summary>Σ_i tr(Δ_i H Δ_iᵀ), Δ_i = Q(W_i · diag(s)) · diag(s)⁻¹ − W_i, summed in float64.</summary>
    public static double Error(IReadOnlyList<Tensor> weights, Tensor hessian, Tensor scales, QuantizationArgs grid)
    {
        using var scope = NewDisposeScope();
        double total = 0;
        var s = scales.to_type(ScalarType.Float32).unsqueeze(0);
        foreach (var w in weights)
        {
            using var quantized = Rtn.Quantize(w * s, grid);
            var delta = quantized.Dequantize(ScalarType.Float32) / s - w;
            total += (delta.matmul(hessian) * delta).to_type(ScalarType.Float64).sum().item<double>();
        }
        return total;
    }
}
