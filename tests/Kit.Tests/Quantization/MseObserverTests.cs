using Kit.Quantization;
using static TorchSharp.torch;

namespace Kit.Tests.Quantization;

public sealed class MseObserverTests
{
    [Theory]
    [InlineData(2, true)] [InlineData(3, true)] [InlineData(3, false)] [InlineData(4, true)] [InlineData(4, false)] [InlineData(8, false)]
    public void Mse_grid_is_the_best_candidate_found_by_brute_force(int bits, bool symmetric)
    {
        using var scope = NewDisposeScope();
        var rows = QuantizerData.HeavyTailed(6, 64, seed: 300 + bits).Concat(QuantizerData.Normal(2, 64, seed: 400 + bits)).ToArray();
        var args = new QuantizationArgs
        {
            NumBits = bits, Symmetric = symmetric, Strategy = QuantizationStrategy.Channel, GroupSize = null, Observer = QuantizationObserver.Mse,
        };
        var p = Quantizer.Fit(QuantizerData.ToTensor(rows, ScalarType.Float64), args);
        var scales = p.Scale.data<double>().ToArray();
        var zeros = p.ZeroPoint.data<double>().ToArray();
        for (int r = 0; r < rows.Length; r++)
        {
            var candidates = QuantizerReference.MseCandidates(rows[r], bits, symmetric).ToList();
            Assert.Equal(80, candidates.Count);
            var best = candidates.MinBy(c => c.Error);
            var minMax = candidates[0];
            double chosen = QuantizerReference.Error(rows[r], scales[r], zeros[r], bits, 2.4);
            Assert.Equal(best.Error, chosen, best.Error * 1e-9);
            Assert.Equal(best.Scale, scales[r], best.Scale * 1e-9);
            Assert.True(chosen <= minMax.Error, $"row {r}: MSE error {chosen} above min-max {minMax.Error}");
        }
    }

    [Theory]
    [InlineData(2, false)] [InlineData(3, true)] [InlineData(4, true)] [InlineData(4, false)]
    public void Mse_beats_min_max_on_rows_with_outliers(int bits, bool symmetric)
    {
        using var scope = NewDisposeScope();
        var rows = QuantizerData.WithOutliers(8, 128, seed: 500 + bits);
        var args = new QuantizationArgs
        {
            NumBits = bits, Symmetric = symmetric, Strategy = QuantizationStrategy.Channel, GroupSize = null, Observer = QuantizationObserver.Mse,
        };
        var p = Quantizer.Fit(QuantizerData.ToTensor(rows, ScalarType.Float64), args);
        var scales = p.Scale.data<double>().ToArray();
        var zeros = p.ZeroPoint.data<double>().ToArray();
        for (int r = 0; r < rows.Length; r++)
        {
            var (scale, zero) = QuantizerReference.Grid(rows[r].Min(), rows[r].Max(), bits, symmetric);
            double minMax = QuantizerReference.Error(rows[r], scale, zero, bits, 2.4);
            double mse = QuantizerReference.Error(rows[r], scales[r], zeros[r], bits, 2.4);
            Assert.True(mse < minMax, $"row {r}: MSE error {mse} not below min-max {minMax}");
            Assert.True(scales[r] < scale, $"row {r}: the range was not clipped");
        }
    }

    [Fact]
    public void Float32_mse_search_never_loses_to_min_max()
    {
        using var scope = NewDisposeScope();
        var rows = QuantizerData.AsFloat32(QuantizerData.HeavyTailed(16, 128, seed: 17));
        var args = new QuantizationArgs { NumBits = 4, Symmetric = false, GroupSize = 32, Observer = QuantizationObserver.Mse };
        using var mse = Rtn.Quantize(QuantizerData.ToTensor(rows), args);
        using var minMax = Rtn.Quantize(QuantizerData.ToTensor(rows), args with { Observer = QuantizationObserver.MinMax });
        var w = QuantizerData.ToTensor(rows, ScalarType.Float64);
        // Per row and group, as the search compares them (float32 sums: allow their rounding).
        var mseError = (mse.Dequantize(ScalarType.Float64) - w).abs().pow(2.4).reshape(16, 4, 32).sum(2);
        var minMaxError = (minMax.Dequantize(ScalarType.Float64) - w).abs().pow(2.4).reshape(16, 4, 32).sum(2);
        Assert.True((mseError <= minMaxError * (1 + 1e-5)).all().item<bool>());
        Assert.True((mseError < minMaxError).any().item<bool>());
    }

    [Fact]
    public void Max_shrink_limits_how_far_the_range_is_clipped()
    {
        using var scope = NewDisposeScope();
        var rows = QuantizerData.HeavyTailed(8, 128, seed: 23);
        // llm-compressor's setting: p = 1, 0.99, …, 0.81.
        var args = new QuantizationArgs
        {
            NumBits = 2, Strategy = QuantizationStrategy.Channel, GroupSize = null, Observer = QuantizationObserver.Mse, MseMaxShrink = 0.2,
        };
        var p = Quantizer.Fit(QuantizerData.ToTensor(rows, ScalarType.Float64), args);
        var scales = p.Scale.data<double>().ToArray();
        for (int r = 0; r < rows.Length; r++)
        {
            var candidates = QuantizerReference.MseCandidates(rows[r], 2, true, maxShrink: 0.2).ToList();
            Assert.Equal(20, candidates.Count);
            Assert.Equal(candidates.MinBy(c => c.Error).Scale, scales[r], scales[r] * 1e-9);
            Assert.True(scales[r] >= candidates[0].Scale * 0.81 * (1 - 1e-12));
        }
    }

    [Fact]
    public void Mse_norm_changes_which_grid_wins()
    {
        using var scope = NewDisposeScope();
        var rows = QuantizerData.HeavyTailed(4, 64, seed: 29);
        var args = new QuantizationArgs
        {
            NumBits = 3, Strategy = QuantizationStrategy.Channel, GroupSize = null, Observer = QuantizationObserver.Mse, MseNorm = 1,
        };
        var p = Quantizer.Fit(QuantizerData.ToTensor(rows, ScalarType.Float64), args);
        var scales = p.Scale.data<double>().ToArray();
        for (int r = 0; r < rows.Length; r++)
            Assert.Equal(QuantizerReference.MseCandidates(rows[r], 3, true, norm: 1).MinBy(c => c.Error).Scale, scales[r], scales[r] * 1e-9);
    }

    [Fact]
    public void Per_tensor_mse_searches_one_range_for_the_whole_matrix()
    {
        using var scope = NewDisposeScope();
        var rows = QuantizerData.HeavyTailed(4, 32, seed: 31);
        var args = new QuantizationArgs
        {
            NumBits = 4, Symmetric = false, Strategy = QuantizationStrategy.Tensor, GroupSize = null, Observer = QuantizationObserver.Mse,
        };
        var p = Quantizer.Fit(QuantizerData.ToTensor(rows, ScalarType.Float64), args);
        Assert.Equal(new long[] { 1, 1 }, p.Scale.shape);
        var best = QuantizerReference.MseCandidates(rows.SelectMany(r => r).ToArray(), 4, false).MinBy(c => c.Error);
        Assert.Equal(best.Scale, p.Scale.item<double>(), best.Scale * 1e-9);
        Assert.Equal(best.Zero, p.ZeroPoint.item<double>());
    }

    [Fact]
    public void Mse_fp8_grid_is_no_worse_than_min_max()
    {
        using var scope = NewDisposeScope();
        var rows = QuantizerData.HeavyTailed(8, 64, seed: 37);
        var w = QuantizerData.ToTensor(rows, ScalarType.Float64);
        var args = QuantizationPresets.Fp8Dynamic with { Observer = QuantizationObserver.Mse, MseNorm = 2 };
        var mse = Quantizer.FakeQuantize(w, Quantizer.Fit(w, args), args);
        var minMax = Quantizer.FakeQuantize(w, Quantizer.Fit(w, QuantizationPresets.Fp8Dynamic), args);
        var mseError = (mse - w).pow(2).sum(1);
        var minMaxError = (minMax - w).pow(2).sum(1);
        Assert.True((mseError <= minMaxError).all().item<bool>());
    }
}
