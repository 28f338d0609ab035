using Kit.Quantization;
using static TorchSharp.torch;
using static Kit.Tests.Quantization.SparsityTestInputs;

namespace Kit.Tests.Quantization;

public sealed class SparsityPatternTests
{
    static readonly SparsityPattern TwoOfFour = SparsityPattern.NOfM(2, 4);

    static void AssertTwoOfEveryFour(CompressionResult result)
    {
        using var scope = NewDisposeScope();
        long rows = result.Mask!.shape[0], columns = result.Mask!.shape[1];
        var perGroup = result.Mask.to_type(ScalarType.Int64).reshape(rows, columns / 4, 4).sum(2);
        Assert.True(perGroup.eq(2).all().item<bool>(), "every group of four has exactly two pruned weights");
        Assert.Equal(0.0, result.Weight.masked_select(result.Mask).abs().max().item<double>());
        // Random weights are never exactly 0, so the kept ones must all be non-zero.
        Assert.True(result.Weight.masked_select(result.Mask.logical_not()).ne(0).all().item<bool>());
    }

    [Fact]
    public void Two_of_four_masks_zero_exactly_two_of_every_four_weights()
    {
        var (W, X) = Layer(seed: 7, rows: 16, columns: 64, tokens: 256);
        var H = Hessian(X);
        using var sparse = SparseGpt.Prune(W, H, new SparseGptOptions { Pattern = TwoOfFour, BlockSize = 16 });
        using var magnitude = MagnitudePruning.Prune(W, TwoOfFour);
        using var wanda = Wanda.Prune(W, H.diagonal(), TwoOfFour);
        AssertTwoOfEveryFour(sparse);
        AssertTwoOfEveryFour(magnitude);
        AssertTwoOfEveryFour(wanda);
    }

    [Fact]
    public void Parse_reads_n_of_m_and_fractions()
    {
        Assert.Equal(SparsityPattern.NOfM(2, 4), SparsityPattern.Parse("2:4"));
        Assert.Equal(SparsityPattern.Unstructured(0.5), SparsityPattern.Parse("0.5"));
        Assert.Equal(0.5, SparsityPattern.Parse("4:8").Sparsity);
        Assert.Equal("2:4", TwoOfFour.ToString());
        Assert.Throws<ArgumentException>(() => SparsityPattern.Parse("half"));
    }

    [Fact]
    public void Sparsity_outside_zero_to_one_is_rejected_by_name()
    {
        var e = Assert.Throws<ArgumentException>(() => SparsityPattern.Unstructured(1.5));
        Assert.Equal("sparsity", e.ParamName);
        Assert.Contains("SparsityPattern.Sparsity", e.Message);
        Assert.Throws<ArgumentException>(() => SparsityPattern.Unstructured(-0.1));
        Assert.Throws<ArgumentException>(() => SparsityPattern.Unstructured(double.NaN));
    }

    [Fact]
    public void N_of_m_needs_n_below_m()
    {
        var e = Assert.Throws<ArgumentException>(() => SparsityPattern.NOfM(4, 2));
        Assert.Equal("n", e.ParamName);
        Assert.Contains("SparsityPattern.N", e.Message);
        Assert.Throws<ArgumentException>(() => SparsityPattern.NOfM(0, 4));
        Assert.Throws<ArgumentException>(() => SparsityPattern.NOfM(4, 4));
    }

    [Fact]
    public void In_features_not_divisible_by_m_is_rejected_by_every_method()
    {
        var W = randn(4, 10, ScalarType.Float64);
        var H = eye(10, dtype: ScalarType.Float64);
        foreach (var act in new Action[]
        {
            () => SparseGpt.Prune(W, H, new SparseGptOptions { Pattern = TwoOfFour, BlockSize = 4 }),
            () => MagnitudePruning.Prune(W, TwoOfFour),
            () => Wanda.Prune(W, H.diagonal(), TwoOfFour),
        })
        {
            var e = Assert.Throws<ArgumentException>(act);
            Assert.Contains("SparsityPattern.M", e.Message);
            Assert.Contains("10", e.Message);
        }
    }

    [Theory]
    [InlineData(0, 0.01, "BlockSize")]
    [InlineData(6, 0.01, "BlockSize")]
    [InlineData(128, -0.01, "DampeningFraction")]
    [InlineData(128, double.NaN, "DampeningFraction")]
    public void Bad_sparsegpt_options_are_rejected_by_name(int blockSize, double dampening, string option)
    {
        var W = randn(4, 8, ScalarType.Float64);
        var H = eye(8, dtype: ScalarType.Float64);
        var options = new SparseGptOptions { Pattern = TwoOfFour, BlockSize = blockSize, DampeningFraction = dampening };
        var e = Assert.Throws<ArgumentException>(() => SparseGpt.Prune(W, H, options));
        Assert.Equal(option, e.ParamName);
        Assert.Contains("SparseGptOptions." + option, e.Message);
    }
}
