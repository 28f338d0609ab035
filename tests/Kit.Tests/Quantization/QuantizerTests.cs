using Kit.Quantization;
using static TorchSharp.torch;

namespace Kit.Tests.Quantization;

public sealed class QuantizerTests
{
    static readonly QuantizationArgs Int4Channel = new() { NumBits = 4, Strategy = QuantizationStrategy.Channel, GroupSize = null };

    [Fact]
    public void Symmetric_int4_row_matches_hand_computation()
    {
        using var scope = NewDisposeScope();
        var w = tensor(new float[] { -1, 0.5f, 0.25f, 2 }).reshape(1, 4);
        var p = Quantizer.Fit(w, Int4Channel);
        // scale = absmax / ((7 − (−8)) / 2) = 2 / 7.5; x / scale = −3.75, 1.875, 0.9375, 7.5 → −4, 2, 1, 8 → clamp 7.
        Assert.Equal(2 / 7.5, p.Scale.item<float>(), 6);
        Assert.Equal(0, p.ZeroPoint.item<float>());
        Assert.Equal(new float[] { -4, 2, 1, 7 }, Quantizer.Quantize(w, p, Int4Channel).data<float>().ToArray());
        var values = Quantizer.FakeQuantize(w, p, Int4Channel).data<float>().ToArray();
        QuantizerData.AssertClose(new[] { -4 * 2 / 7.5, 2 * 2 / 7.5, 2 / 7.5, 7 * 2 / 7.5 }, values, 1e-6);
    }

    [Fact]
    public void Asymmetric_int4_row_matches_hand_computation()
    {
        using var scope = NewDisposeScope();
        var args = Int4Channel with { Symmetric = false };
        var w = tensor(new float[] { -1, 0.5f, 0.25f, 2 }).reshape(1, 4);
        var p = Quantizer.Fit(w, args);
        // scale = (2 − (−1)) / 15 = 0.2; zp = round(−8 − (−1) / 0.2) = −3; codes round(x / 0.2) − 3 = −8, −1 (2.5 → 2 in float32: 2.4999999), −2, 7.
        Assert.Equal(0.2, p.Scale.item<float>(), 6);
        Assert.Equal(-3, p.ZeroPoint.item<float>());
        Assert.Equal(new float[] { -8, -1, -2, 7 }, Quantizer.Quantize(w, p, args).data<float>().ToArray());
        var values = Quantizer.FakeQuantize(w, p, args).data<float>().ToArray();
        QuantizerData.AssertClose(new[] { -1, 0.4, 0.2, 2 }, values, 1e-6);
    }

    [Fact]
    public void Per_tensor_grid_takes_the_range_of_the_whole_matrix()
    {
        using var scope = NewDisposeScope();
        var args = new QuantizationArgs { NumBits = 8, Strategy = QuantizationStrategy.Tensor, GroupSize = null, Symmetric = false };
        var w = tensor(new float[] { 1, 2, 3, 4, 5, 6 }).reshape(2, 3);
        var p = Quantizer.Fit(w, args);
        // Range [0, 6] (zero included): scale 6/255, zp = round(−128 − 0) = −128.
        Assert.Equal(new long[] { 1, 1 }, p.Scale.shape);
        Assert.Equal(6.0 / 255, p.Scale.item<float>(), 7);
        Assert.Equal(-128, p.ZeroPoint.item<float>());
    }

    [Theory]
    [InlineData(2, true)] [InlineData(2, false)] [InlineData(3, true)] [InlineData(3, false)]
    [InlineData(4, true)] [InlineData(4, false)] [InlineData(8, true)] [InlineData(8, false)]
    public void Every_code_is_an_integer_within_qmin_and_qmax(int bits, bool symmetric)
    {
        using var scope = NewDisposeScope();
        var w = QuantizerData.ToTensor(QuantizerData.HeavyTailed(8, 64, seed: bits * 10 + (symmetric ? 1 : 0)));
        foreach (var strategy in new[] { QuantizationStrategy.Tensor, QuantizationStrategy.Channel, QuantizationStrategy.Group })
        {
            var args = new QuantizationArgs { NumBits = bits, Symmetric = symmetric, Strategy = strategy, GroupSize = 16 };
            using var q = Rtn.Quantize(w, args);
            var codes = q.Codes.data<sbyte>().ToArray();
            Assert.All(codes, c => Assert.InRange(c, -(1 << (bits - 1)), (1 << (bits - 1)) - 1));
            var zeros = q.ZeroPoint.data<sbyte>().ToArray();
            Assert.All(zeros, z => Assert.InRange(z, -(1 << (bits - 1)), (1 << (bits - 1)) - 1));
        }
    }

    [Theory]
    [InlineData(2)] [InlineData(4)] [InlineData(8)]
    public void Asymmetric_grid_represents_zero_exactly(int bits)
    {
        using var scope = NewDisposeScope();
        var rows = QuantizerData.Normal(6, 32, seed: bits);
        rows[1] = rows[1].Select(Math.Abs).ToArray();               // all positive: the range is [0, max]
        rows[2] = rows[2].Select(v => -Math.Abs(v) - 1).ToArray();  // all negative: the range is [min, 0]
        rows[3] = rows[3].Select(v => v + 0.3).ToArray();
        var w = QuantizerData.ToTensor(rows);
        var args = new QuantizationArgs { NumBits = bits, Symmetric = false, Strategy = QuantizationStrategy.Channel, GroupSize = null };
        var p = Quantizer.Fit(w, args);
        var zero = Quantizer.FakeQuantize(zeros(6, 32), p, args);
        Assert.All(zero.data<float>().ToArray(), v => Assert.Equal(0f, v));
    }

    [Fact]
    public void All_zero_row_quantizes_to_zero_without_nan()
    {
        using var scope = NewDisposeScope();
        foreach (var symmetric in new[] { true, false })
        {
            var args = Int4Channel with { Symmetric = symmetric };
            var w = zeros(2, 8);
            var p = Quantizer.Fit(w, args);
            Assert.All(Quantizer.FakeQuantize(w, p, args).data<float>().ToArray(), v => Assert.Equal(0f, v));
        }
    }

    [Fact]
    public void Fit_follows_the_formulas_per_row_for_float64_input()
    {
        using var scope = NewDisposeScope();
        var rows = QuantizerData.HeavyTailed(5, 40, seed: 7);
        foreach (var symmetric in new[] { true, false })
            foreach (var bits in new[] { 3, 4, 8 })
            {
                var args = new QuantizationArgs { NumBits = bits, Symmetric = symmetric, Strategy = QuantizationStrategy.Channel, GroupSize = null };
                var p = Quantizer.Fit(QuantizerData.ToTensor(rows, ScalarType.Float64), args);
                var scales = p.Scale.data<double>().ToArray();
                var zeroPoints = p.ZeroPoint.data<double>().ToArray();
                for (int r = 0; r < rows.Length; r++)
                {
                    var (scale, zero) = QuantizerReference.Grid(rows[r].Min(), rows[r].Max(), bits, symmetric);
                    Assert.Equal(scale, scales[r], scale * 1e-12);
                    Assert.Equal(zero, zeroPoints[r]);
                }
            }
    }

    [Theory]
    [InlineData(96, false, QuantizationObserver.MinMax)]     // three whole groups: one fit over a view
    [InlineData(70, false, QuantizationObserver.MinMax)]     // 32 + 32 + 6
    [InlineData(70, true, QuantizationObserver.Mse)]
    public void Group_grids_are_each_groups_own_fit(int columns, bool symmetric, QuantizationObserver observer)
    {
        using var scope = NewDisposeScope();
        var args = QuantizationPresets.W4A16 with { Symmetric = symmetric, GroupSize = 32, Observer = observer };
        var w = randn(new long[] { 5, columns }, generator: new TorchSharp.torch.Generator(8)) * 0.1;
        var grids = Quantizer.FitGroups(w, 32, args);
        int groups = (columns + 31) / 32;
        Assert.Equal(new long[] { 5, groups }, grids.Scale.shape);
        for (int g = 0; g < groups; g++)
        {
            var own = Quantizer.Fit(w.narrow(1, g * 32, Math.Min(32, columns - g * 32)), args);
            Assert.True(own.Scale.equal(grids.Scale.narrow(1, g, 1)).all().item<bool>(), $"group {g} scale");
            Assert.True(own.ZeroPoint.equal(grids.ZeroPoint.narrow(1, g, 1)).all().item<bool>(), $"group {g} zero point");
        }
    }
}
