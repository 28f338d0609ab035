using static TorchSharp.torch;

namespace Kit.Quantization;

/// <summary>Masks that prune the lowest scores: per matrix, per row, or per group of M columns.</summary>
internal static class SparsityMasks
{
    /// <summary>
    /// Bool mask [out, in] of the lowest <paramref name="score"/>s: int(count · sparsity) of them over the
    /// whole matrix (<paramref name="perRow"/> false) or in every row, or N in every group of M columns.
    /// Ties go to the lower index (stable sort), so the counts are exact.
    /// </summary>
    public static Tensor Lowest(Tensor score, SparsityPattern pattern, bool perRow)
    {
        using var scope = NewDisposeScope();
        long rows = score.shape[0], columns = score.shape[1];
        Tensor mask;
        if (pattern.IsNOfM)
        {
            var groups = score.reshape(rows, columns / pattern.M, pattern.M);
            var index = groups.topk(pattern.N, dim: 2, largest: false).indexes;
            mask = zeros(groups.shape, ScalarType.Bool, score.device).scatter_(2, index, ones_like(index, ScalarType.Bool));
        }
        else if (perRow)
        {
            long k = (long)(columns * pattern.Sparsity);
            var index = score.sort(dim: 1, stable: true).Indices[.., ..(int)k];
            mask = zeros(rows, columns, ScalarType.Bool, score.device).scatter_(1, index, ones_like(index, ScalarType.Bool));
        }
        else
        {
            long k = (long)(rows * columns * pattern.Sparsity);
            var index = score.flatten().sort(dim: 0, stable: true).Indices[..(int)k];
            mask = zeros(rows * columns, ScalarType.Bool, score.device).scatter_(0, index, ones_like(index, ScalarType.Bool));
        }
        return mask.reshape(rows, columns).MoveToOuterDisposeScope();
    }
}
