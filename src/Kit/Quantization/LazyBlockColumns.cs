using static TorchSharp.torch;

namespace Kit.Quantization;

/// <summary>
/// What GPTQ's and SparseGPT's lazy block updates leave unwritten: columns as the column-by-column algorithm
/// would hold them, for fitting a quantization group's grid when the group starts.
/// </summary>
internal static class LazyBlockColumns
{
    /// <summary>
    /// Columns [i1 + i, i1 + i + groupSize) as they stand once every column before i1 + i has been compressed: this
    /// block's part from <paramref name="W1"/> (updated column by column), the part beyond the block from
    /// <paramref name="W"/> less the updates this block has pending, Err1[:, :i] · Hinv[i1 : i1 + i, beyond] (times
    /// <paramref name="keep"/> where pruned weights must stay zero). The references read only the outer W, which misses
    /// those updates when a group starts mid-block or spans two blocks; for groups aligned with blocks all agree.
    /// </summary>
    /// <param name="W">The whole weight, updated up to the start of this block.</param>
    /// <param name="W1">This block's columns, updated through column i − 1.</param>
    /// <param name="Err1">This block's scaled errors (w − q) / Hinv[c, c], filled through column i − 1.</param>
    /// <param name="Hinv">The upper Cholesky factor of H⁻¹.</param>
    /// <param name="keep">1 where a weight may move, 0 where it was pruned; null when none were.</param>
    /// <param name="i1">The block's first column.</param>
    /// <param name="i">The group's first column within the block.</param>
    /// <param name="groupSize">Columns per group.</param>
    public static Tensor ForGroup(Tensor W, Tensor W1, Tensor Err1, Tensor Hinv, Tensor? keep, int i1, int i, int groupSize)
    {
        int count = (int)W1.shape[1], i2 = i1 + count, end = Math.Min(i1 + i + groupSize, (int)W.shape[1]);
        var inBlock = W1.narrow(1, i, Math.Min(groupSize, count - i));
        if (end <= i2) return inBlock;
        var beyond = W.narrow(1, i2, end - i2);
        if (i > 0)
        {
            var pending = Err1.narrow(1, 0, i).matmul(Hinv.narrow(0, i1, i).narrow(1, i2, end - i2));
            beyond = beyond - (keep is null ? pending : pending * keep.narrow(1, i2, end - i2));
        }
        return cat(new[] { inBlock, beyond }, 1);
    }
}
