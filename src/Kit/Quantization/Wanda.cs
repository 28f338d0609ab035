using System.Diagnostics;
using static TorchSharp.torch;
using Kit.Runtime;

namespace Kit.Quantization;

/// <summary>
/// Wanda (Sun et al. 2023, "A Simple and Effective Pruning Approach for LLMs"): score each weight by
/// |W_ij| · ‖X_j‖₂, the size of its contribution to the output, and zero the lowest scores without
/// compensation. Unstructured patterns compare within each output row (int(in · sparsity) per row, as
/// the paper's per-output comparison group); N:M patterns compare each group of M input weights.
/// </summary>
public static class Wanda
{
    /// <summary>
    /// Prunes <paramref name="W"/> [out, in] given <paramref name="inputNormsSquared"/> [in]: Σ x_j² over the
    /// calibration tokens, or diag(H) (any positive multiple gives the same mask).
    /// </summary>
    public static CompressionResult Prune(Tensor W, Tensor inputNormsSquared, SparsityPattern pattern)
    {
        var watch = Stopwatch.StartNew();
        if (W.dim() != 2) throw new ArgumentException($"W must be a matrix [out, in], got shape [{string.Join(", ", W.shape)}]", nameof(W));
        if (inputNormsSquared.dim() != 1 || inputNormsSquared.shape[0] != W.shape[1])
            throw new ArgumentException($"inputNormsSquared must have shape [{W.shape[1]}] (one per input column), got [{string.Join(", ", inputNormsSquared.shape)}]", nameof(inputNormsSquared));
        pattern.CheckColumns(W.shape[1]);
        using var scope = NewDisposeScope();
        var dtype = W.dtype == ScalarType.Float64 ? ScalarType.Float64 : ScalarType.Float32;
        var norms = inputNormsSquared.to(W.device).to_type(dtype).sqrt().reshape(1, -1);
        var mask = SparsityMasks.Lowest(W.to_type(dtype).abs() * norms, pattern, perRow: true);
        var weight = W.masked_fill(mask, HeldScalars.Of(0));
        return new CompressionResult(weight, null, mask, double.NaN, 0, watch.Elapsed).MoveToOuterDisposeScope();
    }
}
