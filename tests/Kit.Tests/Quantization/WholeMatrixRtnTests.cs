using Kit.Quantization;
using static TorchSharp.torch;

namespace Kit.Tests.Quantization;

public sealed class WholeMatrixRtnTests
{
    [Theory]
    [InlineData(4, true, QuantizationObserver.MinMax)]
    [InlineData(4, false, QuantizationObserver.MinMax)]
    [InlineData(8, true, QuantizationObserver.Mse)]
    public void Rtn_of_whole_groups_equals_fitting_each_group_on_its_own(int bits, bool symmetric, QuantizationObserver observer)
    {
        using var scope = NewDisposeScope();
        var args = new QuantizationArgs { NumBits = bits, Symmetric = symmetric, Strategy = QuantizationStrategy.Group, GroupSize = 16, Observer = observer };
        manual_seed(7);
        var w = randn(12, 64) * linspace(0.1, 3, 64);
        var q = Rtn.Quantize(w, args);
        for (int g = 0; g < 4; g++)
        {
            var block = w[.., (g * 16)..((g + 1) * 16)];
            var fit = Quantizer.Fit(block, args);
            var codes = Quantizer.Quantize(block, fit, args).to_type(ScalarType.Int8);
            Assert.True(codes.equal(q.Codes[.., (g * 16)..((g + 1) * 16)]).all().item<bool>(), $"codes of group {g}");
            Assert.True(fit.Scale.to_type(ScalarType.Float32).flatten().equal(q.Scale[.., g]).all().item<bool>(), $"scales of group {g}");
            Assert.True(fit.ZeroPoint.to_type(ScalarType.Int8).flatten().equal(q.ZeroPoint[.., g]).all().item<bool>(), $"zero points of group {g}");
        }
    }

    [Fact]
    public void Dequantize_applies_each_columns_own_group_in_order_and_shuffled()
    {
        using var scope = NewDisposeScope();
        var args = new QuantizationArgs { NumBits = 4, Symmetric = false, Strategy = QuantizationStrategy.Group, GroupSize = 4 };
        var rng = new Random(3);
        int rows = 3, columns = 12, groups = 3;
        var codes = new sbyte[rows * columns];
        for (int i = 0; i < codes.Length; i++) codes[i] = (sbyte)rng.Next(-8, 8);
        var scales = Enumerable.Range(0, rows * groups).Select(_ => (float)(0.01 + rng.NextDouble())).ToArray();
        var zeros = Enumerable.Range(0, rows * groups).Select(_ => (sbyte)rng.Next(-8, 8)).ToArray();
        int[] inOrder = Enumerable.Range(0, columns).Select(c => c / 4).ToArray();
        int[] shuffled = inOrder.OrderBy(_ => rng.Next()).ToArray();
        foreach (var gIdx in new[] { inOrder, shuffled })
        {
            var weight = new QuantizedWeight(tensor(codes, rows, columns), tensor(scales, rows, groups), tensor(zeros, rows, groups), tensor(gIdx), args);
            var values = weight.Dequantize().data<float>().ToArray();
            for (int r = 0; r < rows; r++)
                for (int c = 0; c < columns; c++)
                {
                    int g = gIdx[c];
                    float expected = (codes[r * columns + c] - (float)zeros[r * groups + g]) * scales[r * groups + g];
                    Assert.Equal(expected, values[r * columns + c]);
                }
            Assert.Equal(values.Select(v => (double)v), weight.Dequantize(ScalarType.Float64).data<double>().ToArray());
        }
    }
}
