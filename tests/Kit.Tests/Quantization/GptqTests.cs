using Kit.Quantization;
using static Kit.Tests.Quantization.GptqTestData;
using static TorchSharp.torch;

namespace Kit.Tests.Quantization;

public sealed class GptqTests
{
    static readonly GptqOptions Float64 = new() { ComputeDType = ScalarType.Float64, ActOrder = ActOrder.None };

    static QuantizationArgs Grouped(int bits, int groupSize, bool symmetric = true) =>
        new() { NumBits = bits, Symmetric = symmetric, Strategy = QuantizationStrategy.Group, GroupSize = groupSize };

    static QuantizationArgs PerChannel(int bits, bool symmetric = true) =>
        new() { NumBits = bits, Symmetric = symmetric, Strategy = QuantizationStrategy.Channel, GroupSize = null };

    /// <summary>A layer [rows, cols] and inputs [tokens, cols] with strongly correlated columns.</summary>
    static (Tensor W, Tensor X, Tensor H) Layer(int rows, int cols, int seed)
    {
        var x = CorrelatedInputs(4 * cols, cols, seed + 1);
        return (ToTensor(Gaussian(rows, cols, seed)), ToTensor(x), ToTensor(Hessian(x)));
    }

    static void AssertClose(Tensor expected, Tensor actual, double tolerance)
    {
        double diff = (expected.to_type(ScalarType.Float64) - actual.to_type(ScalarType.Float64)).abs().max().item<double>();
        Assert.True(diff <= tolerance, $"max |difference| {diff} > {tolerance}");
    }

    static bool Same(Tensor a, Tensor b) => a.shape.SequenceEqual(b.shape) && a.eq(b).all().item<bool>();

    /// <summary>Every weight is (code − zero point) · scale of its group, with an integer code in range.</summary>
    static void AssertOnGrid(Tensor weight, Tensor scale, Tensor zeroPoint, int[] gIdx, QuantizationArgs args, double tolerance = 1e-9)
    {
        var w = ToArray(weight);
        var s = ToArray(scale.to_type(ScalarType.Float64));
        var z = ToArray(zeroPoint.to_type(ScalarType.Float64));
        for (int r = 0; r < w.GetLength(0); r++)
            for (int c = 0; c < w.GetLength(1); c++)
            {
                int g = s.GetLength(1) == 1 ? 0 : gIdx[c];
                int row = s.GetLength(0) == 1 ? 0 : r;
                double code = w[r, c] / s[row, g] + z[row, g];
                Assert.True(Math.Abs(code - Math.Round(code)) < tolerance, $"[{r},{c}] = {w[r, c]} is not on the grid of group {g} (code {code})");
                Assert.InRange(Math.Round(code), args.QMin, args.QMax);
            }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    public void Gptq_beats_rtn_on_correlated_inputs(int seed)
    {
        var (w, x, h) = Layer(16, 64, seed);
        foreach (var args in new[] { PerChannel(3), Grouped(3, 16), Grouped(4, 32, symmetric: false) })
        {
            using var gptq = Gptq.Quantize(w, h, args, Float64);
            using var rtn = Rtn.Quantize(w, args);
            double gptqError = OutputError(w, gptq.Weight, x), rtnError = OutputError(w, rtn.Dequantize(ScalarType.Float64), x);
            Assert.True(gptqError < 0.5 * rtnError, $"{args.Strategy} {args.NumBits}-bit: GPTQ {gptqError} vs RTN {rtnError}");
        }
    }

    [Fact]
    public void Group_act_order_equals_gptq_on_the_permuted_problem_and_maps_g_idx()
    {
        var (w, _, h) = Layer(8, 24, 5);
        var args = Grouped(3, 6);
        // Columns by decreasing diag(H) (no ties: CorrelatedInputs scales every column differently).
        var diagH = ToArray(h.diagonal().unsqueeze(0));
        int[] perm = Enumerable.Range(0, 24).OrderByDescending(c => diagH[0, c]).ToArray();
        var permIndex = tensor(perm.Select(p => (long)p).ToArray());

        using var actOrder = Gptq.Quantize(w, h, args, Float64 with { ActOrder = ActOrder.Group });
        using var permuted = Gptq.Quantize(w.index_select(1, permIndex), h.index_select(0, permIndex).index_select(1, permIndex), args, Float64);

        var expected = zeros_like(w).index_copy_(1, permIndex, permuted.Weight);
        AssertClose(expected, actOrder.Weight, 1e-12);
        Assert.Equal(permuted.Loss, actOrder.Loss, 1e-9);
        AssertClose(permuted.Quantized!.Scale, actOrder.Quantized!.Scale, 0);
        var gIdx = actOrder.Quantized.GIdx.data<int>().ToArray();
        for (int j = 0; j < 24; j++) Assert.Equal(j / 6, gIdx[perm[j]]);
        Assert.NotEqual(Enumerable.Range(0, 24).Select(c => c / 6), gIdx);
        AssertClose(actOrder.Weight.to_type(ScalarType.Float32), actOrder.Quantized.Dequantize(), 0);
        AssertOnGrid(actOrder.Weight, actOrder.Quantized.Scale, actOrder.Quantized.ZeroPoint, gIdx, args);
    }

    [Fact]
    public void Static_act_order_permutes_columns_but_keeps_the_stored_group_layout()
    {
        var (w, _, h) = Layer(8, 24, 6);
        var diagH = ToArray(h.diagonal().unsqueeze(0));
        var permIndex = tensor(Enumerable.Range(0, 24).OrderByDescending(c => diagH[0, c]).Select(c => (long)c).ToArray());

        // Per channel the grid does not depend on the order, so act-order is GPTQ on the permuted problem.
        var channel = PerChannel(3);
        using var actOrder = Gptq.Quantize(w, h, channel, Float64 with { ActOrder = ActOrder.Static });
        using var permuted = Gptq.Quantize(w.index_select(1, permIndex), h.index_select(0, permIndex).index_select(1, permIndex), channel, Float64);
        AssertClose(zeros_like(w).index_copy_(1, permIndex, permuted.Weight), actOrder.Weight, 1e-12);
        using var inOrder = Gptq.Quantize(w, h, channel, Float64);
        Assert.True((inOrder.Weight - actOrder.Weight).abs().max().item<double>() > 1e-6, "act-order should change the result");

        // Grouped: the grids are the stored groups' min–max grids (as RTN fits them), g_idx the identity.
        var args = Grouped(3, 6);
        using var grouped = Gptq.Quantize(w, h, args, Float64 with { ActOrder = ActOrder.Static });
        using var rtn = Rtn.Quantize(w, args);
        AssertClose(rtn.Scale, grouped.Quantized!.Scale, 1e-7 * rtn.Scale.abs().max().item<float>());
        AssertClose(rtn.ZeroPoint, grouped.Quantized.ZeroPoint, 0);
        var gIdx = grouped.Quantized.GIdx.data<int>().ToArray();
        Assert.Equal(Enumerable.Range(0, 24).Select(c => c / 6), gIdx);
        AssertClose(grouped.Weight.to_type(ScalarType.Float32), grouped.Quantized.Dequantize(), 0);
        AssertOnGrid(grouped.Weight, grouped.Quantized.Scale, grouped.Quantized.ZeroPoint, gIdx, args);
    }

    [Fact]
    public void Static_groups_without_act_order_use_the_original_weights_grids()
    {
        var (w, x, h) = Layer(8, 24, 7);
        var args = Grouped(3, 6, symmetric: false);
        using var gptq = Gptq.Quantize(w, h, args, Float64 with { StaticGroups = true });
        using var rtn = Rtn.Quantize(w, args);
        AssertClose(rtn.Scale, gptq.Quantized!.Scale, 1e-7 * rtn.Scale.abs().max().item<float>());
        AssertClose(rtn.ZeroPoint, gptq.Quantized.ZeroPoint, 0);
        AssertOnGrid(gptq.Weight, gptq.Quantized.Scale, gptq.Quantized.ZeroPoint, gptq.Quantized.GIdx.data<int>().ToArray(), args);
        Assert.True(OutputError(w, gptq.Weight, x) < OutputError(w, rtn.Dequantize(ScalarType.Float64), x));
    }

    [Theory]
    [InlineData(ActOrder.None, false)]
    [InlineData(ActOrder.None, true)]
    [InlineData(ActOrder.Static, false)]
    [InlineData(ActOrder.Group, false)]
    public void Block_size_does_not_change_the_result(ActOrder actOrder, bool perChannel)
    {
        var (w, _, h) = Layer(6, 20, 8);
        // Group size 4 against block size 3: groups start inside blocks and span two of them.
        var args = perChannel ? PerChannel(3) : Grouped(3, 4, symmetric: false);
        if (perChannel && actOrder == ActOrder.Group) return;
        var options = Float64 with { ActOrder = actOrder };
        using var one = Gptq.Quantize(w, h, args, options with { BlockSize = 1 });
        foreach (int blockSize in new[] { 3, 128 })
        {
            using var other = Gptq.Quantize(w, h, args, options with { BlockSize = blockSize });
            AssertClose(one.Weight, other.Weight, 1e-12);
            Assert.True(Same(one.Quantized!.Codes, other.Quantized!.Codes), $"codes differ at block size {blockSize}");
            AssertClose(one.Quantized.Scale, other.Quantized.Scale, 0);
            Assert.Equal(one.Loss, other.Loss, 1e-10);
        }
    }

    [Fact]
    public void Dead_columns_are_zeroed()
    {
        var xs = CorrelatedInputs(64, 12, 9);
        foreach (int dead in new[] { 0, 5, 11 })
            for (int t = 0; t < 64; t++) xs[t, dead] = 0;
        var w = ToTensor(Gaussian(5, 12, 9));
        var h = ToTensor(Hessian(xs));
        foreach (var actOrder in new[] { ActOrder.None, ActOrder.Static, ActOrder.Group })
        {
            using var result = Gptq.Quantize(w, h, Grouped(4, 4), Float64 with { ActOrder = actOrder });
            var weight = ToArray(result.Weight);
            foreach (int dead in new[] { 0, 5, 11 })
                for (int r = 0; r < 5; r++) Assert.Equal(0.0, weight[r, dead]);
            Assert.True(double.IsFinite(result.Loss));
        }
        // The caller's H and W are left alone.
        Assert.Equal(0.0, h[5, 5].item<double>());
        Assert.NotEqual(0.0, w[0, 5].item<double>());
    }

    [Fact]
    public void Indefinite_hessian_is_retried_with_larger_damping()
    {
        // Eigenvalues of [[1, 3], [3, 1]] are 4 and −2; mean(diag H) = 1, so damping needs a fraction above 2.
        var h = eye(4, dtype: ScalarType.Float64);
        h[0, 1] = tensor(3.0);
        h[1, 0] = tensor(3.0);
        var w = ToTensor(Gaussian(3, 4, 10));
        using var result = Gptq.Quantize(w, h, PerChannel(4), Float64);
        Assert.Equal(10, result.Damping, 1e-12);
        AssertOnGrid(result.Weight, result.Quantized!.Scale, result.Quantized.ZeroPoint, new int[4], PerChannel(4));

        var error = Assert.Throws<HessianNotPositiveDefiniteException>(() =>
            Gptq.Quantize(w, h, PerChannel(4), Float64 with { MaxDampingRetries = 2 }));
        Assert.Contains("not positive definite", error.Message);
        Assert.Contains("add calibration data or raise --damping", error.Message);
        Assert.Equal(1, error.LastDampeningFraction, 1e-12);
    }

    [Fact]
    public void Singular_hessian_without_damping_is_retried_from_one_percent()
    {
        // Fewer tokens than columns: H = 2/n XᵀX has rank 3 of 8 and Cholesky fails without damping.
        var h = ToTensor(Hessian(Gaussian(3, 8, 11)));
        using var result = Gptq.Quantize(ToTensor(Gaussian(4, 8, 12)), h, PerChannel(4), Float64 with { DampeningFraction = 0 });
        Assert.Equal(0.01, result.Damping, 1e-15);
    }

    [Fact]
    public void Same_inputs_give_bit_identical_results()
    {
        var (w, _, h) = Layer(16, 64, 13);
        var args = Grouped(4, 16);
        var options = new GptqOptions { BlockSize = 8, ActOrder = ActOrder.Group };
        using var first = Gptq.Quantize(w.to_type(ScalarType.Float32), h.to_type(ScalarType.Float32), args, options);
        using var second = Gptq.Quantize(w.to_type(ScalarType.Float32), h.to_type(ScalarType.Float32), args, options);
        Assert.True(Same(first.Weight, second.Weight));
        Assert.True(Same(first.Quantized!.Codes, second.Quantized!.Codes));
        Assert.True(Same(first.Quantized.Scale, second.Quantized.Scale));
        Assert.Equal(first.Loss, second.Loss);
    }

    [Theory]
    [InlineData(ScalarType.Float32, ScalarType.Float32)]
    [InlineData(ScalarType.BFloat16, ScalarType.Float32)]
    [InlineData(ScalarType.Float16, ScalarType.Float64)]
    [InlineData(ScalarType.Float64, ScalarType.Float64)]
    public void Dequantized_codes_equal_the_weight_in_its_dtype(ScalarType weightDType, ScalarType compute)
    {
        var (w, _, h) = Layer(8, 32, 14);
        foreach (var args in new[] { Grouped(4, 8, symmetric: false), PerChannel(3), new QuantizationArgs { NumBits = 8, Strategy = QuantizationStrategy.Tensor, GroupSize = null } })
        {
            using var result = Gptq.Quantize(w.to_type(weightDType), h.to_type(ScalarType.Float32), args,
                new GptqOptions { ComputeDType = compute, ActOrder = args.Strategy == QuantizationStrategy.Group ? ActOrder.Group : ActOrder.Static });
            Assert.Equal(weightDType, result.Weight.dtype);
            Assert.Equal(new long[] { 8, 32 }, result.Weight.shape);
            Assert.Null(result.Mask);
            var dequantized = result.Quantized!.Dequantize(ScalarType.Float32);
            // In the weight's own dtype when that is coarser than float32, in float32 otherwise.
            if (weightDType is ScalarType.BFloat16 or ScalarType.Float16)
                Assert.True(Same(dequantized.to_type(weightDType), result.Weight), $"{args.Strategy}: Dequantize differs from Weight");
            else
                Assert.True(Same(dequantized, result.Weight.to_type(ScalarType.Float32)), $"{args.Strategy}: Dequantize differs from Weight");
            AssertOnGrid(dequantized, result.Quantized.Scale, result.Quantized.ZeroPoint, result.Quantized.GIdx.data<int>().ToArray(), args, 1e-5);
        }
    }

    [Fact]
    public void Columns_left_over_after_the_last_full_group_form_a_shorter_group()
    {
        var (w, _, h) = Layer(2, 8, 15);
        using var result = Gptq.Quantize(w, h, Grouped(4, 3), new GptqOptions { ActOrder = ActOrder.None });
        Assert.Equal(new long[] { 2, 3 }, result.Quantized!.Scale.shape);
        Assert.Equal(new[] { 0, 0, 0, 1, 1, 1, 2, 2 }, result.Quantized.GIdx.data<int>().ToArray());
        using var values = result.Quantized.Dequantize(result.Weight.dtype);
        Assert.True(values.to_type(ScalarType.Float32).equal(result.Weight.to_type(ScalarType.Float32)).all().item<bool>());
    }

    [Fact]
    public void Options_that_contradict_the_grid_are_rejected()
    {
        var (w, _, h) = Layer(2, 8, 15);
        Assert.Throws<ArgumentException>(() => Gptq.Quantize(w, h, PerChannel(4), new GptqOptions { ActOrder = ActOrder.Group }));
        Assert.Throws<ArgumentException>(() => Gptq.Quantize(w, h, Grouped(4, 4), new GptqOptions { ActOrder = ActOrder.Group, StaticGroups = true }));
        Assert.Throws<ArgumentException>(() => Gptq.Quantize(w, h[..4, ..4], PerChannel(4), new GptqOptions()));
        Assert.Throws<ArgumentException>(() => Gptq.Quantize(w, h, PerChannel(4), new GptqOptions { BlockSize = 0 }));
    }
}
