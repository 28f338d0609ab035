using Kit.Quantization;
using static TorchSharp.torch;
using static Kit.Tests.Quantization.SparsityTestInputs;

namespace Kit.Tests.Quantization;

public sealed class MagnitudePruningTests
{
    static Tensor TinyW() => tensor(new[] { 0.5, -3, 0.3, -0.1, 4, 1, -6, 2 }, 2, 4);

    [Fact]
    public void Unstructured_prunes_the_smallest_magnitudes_of_the_whole_matrix()
    {
        // Half of 8 weights: |w| = 0.1, 0.3, 0.5, 1 are the four smallest; row 0 loses three, row 1 one.
        using var result = MagnitudePruning.Prune(TinyW(), SparsityPattern.Unstructured(0.5));
        Assert.Equal(new[,] { { true, false, true, true }, { false, true, false, false } }, ToMask(result.Mask!));
        Assert.Equal(new[,] { { 0, -3, 0, 0 }, { 4, 0, -6, 2.0 } }, ToArray(result.Weight));
        Assert.True(double.IsNaN(result.Loss));
    }

    [Fact]
    public void Two_of_four_prunes_the_smallest_two_in_each_group()
    {
        using var result = MagnitudePruning.Prune(TinyW(), SparsityPattern.NOfM(2, 4));
        // Row 0: |w| 0.1 and 0.3 (columns 3, 2); row 1: |w| 1 and 2 (columns 1, 3).
        Assert.Equal(new[,] { { false, false, true, true }, { false, true, false, true } }, ToMask(result.Mask!));
        Assert.Equal(new[,] { { 0.5, -3, 0, 0 }, { 4, 0, -6, 0 } }, ToArray(result.Weight));
    }

    [Fact]
    public void Unstructured_count_is_exact_and_separates_small_from_large()
    {
        var (W, _) = Layer(seed: 3, rows: 16, columns: 80, tokens: 1);
        using var result = MagnitudePruning.Prune(W, SparsityPattern.Unstructured(0.25));
        // 16 · 80 · 0.25 = 320 weights.
        Assert.Equal(320, result.Mask!.sum().item<long>());
        double largestPruned = W.abs().masked_select(result.Mask).max().item<double>();
        double smallestKept = W.abs().masked_select(result.Mask.logical_not()).min().item<double>();
        Assert.True(largestPruned <= smallestKept);
    }
}
