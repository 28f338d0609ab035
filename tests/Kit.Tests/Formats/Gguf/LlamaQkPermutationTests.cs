using Kit.Formats.Gguf;
using static TorchSharp.torch;

namespace Kit.Tests.Formats.Gguf;

/// <summary>llama.cpp's q/k row order, checked against convert_hf_to_gguf.py's reshape/swapaxes worked by hand.</summary>
public sealed class LlamaQkPermutationTests
{
    [Fact]
    public void Rows_interleave_the_two_halves_of_each_head()
    {
        // 2 heads of 4 rows: reshape(2, 2, 2).swapaxes(1, 2) turns head rows [a0 a1 b0 b1] into [a0 b0 a1 b1].
        Assert.Equal(new long[] { 0, 2, 1, 3, 4, 6, 5, 7 }, LlamaQkPermutation.SourceRows(8, 2));
        // One head of 6 rows: halves [0 1 2] and [3 4 5] interleave.
        Assert.Equal(new long[] { 0, 3, 1, 4, 2, 5 }, LlamaQkPermutation.SourceRows(6, 1));
    }

    [Fact]
    public void Unpermute_inverts_permute()
    {
        using var w = arange(24 * 5, ScalarType.Float32).reshape(24, 5);
        using var permuted = LlamaQkPermutation.Permute(w, 3);
        using var back = LlamaQkPermutation.Unpermute(permuted, 3);
        Assert.True(back.eq(w).all().item<bool>());
        Assert.False(permuted.eq(w).all().item<bool>());
        // Row 1 of the GGUF tensor is row 4 (= 8/2, the first row of the second half) of head 0.
        Assert.Equal(4 * 5, permuted[1, 0].item<float>());
    }

    [Fact]
    public void Odd_head_sizes_are_refused()
    {
        Assert.Throws<ArgumentException>(() => LlamaQkPermutation.SourceRows(6, 2));
    }
}
