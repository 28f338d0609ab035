using System.Diagnostics;
using static TorchSharp.torch;
using Kit.Runtime;

namespace Kit.Quantization;

/// <summary>
/// The baseline: zero the weights of smallest magnitude, with no data and no compensation. Unstructured
/// patterns compare the whole matrix (exactly int(out · in · sparsity) weights); N:M patterns compare
/// each group of M consecutive input weights.
/// </summary>
public static class MagnitudePruning
{
    /// <summary>Prunes <paramref name="W"/> [out, in] to <paramref name="pattern"/>.</summary>
    public static CompressionResult Prune(Tensor W, SparsityPattern pattern)
    {
        var watch = Stopwatch.StartNew();
        if (W.dim() != 2) throw new ArgumentException($"W must be a matrix [out, in], got shape [{string.Join(", ", W.shape)}]", nameof(W));
        pattern.CheckColumns(W.shape[1]);
        using var scope = NewDisposeScope();
        var mask = SparsityMasks.Lowest(W.abs(), pattern, perRow: false);
        var weight = W.masked_fill(mask, HeldScalars.Of(0));
        return new CompressionResult(weight, null, mask, double.NaN, 0, watch.Elapsed).MoveToOuterDisposeScope();
    }
}
