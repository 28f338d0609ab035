using Kit.Quantization;
using static TorchSharp.torch;

namespace Kit.Tests.Quantization;

public sealed class GridRoundTripTests
{
    public static TheoryData<int, bool, QuantizationStrategy> IntGrids()
    {
        var data = new TheoryData<int, bool, QuantizationStrategy>();
        for (int bits = 2; bits <= 8; bits++)
            foreach (var symmetric in new[] { true, false })
                foreach (var strategy in new[] { QuantizationStrategy.Tensor, QuantizationStrategy.Channel, QuantizationStrategy.Group })
                    data.Add(bits, symmetric, strategy);
        return data;
    }

    [Theory]
    [MemberData(nameof(IntGrids))]
    public void Quantize_dequantize_quantize_is_a_fixed_point(int bits, bool symmetric, QuantizationStrategy strategy)
    {
        using var scope = NewDisposeScope();
        var args = new QuantizationArgs { NumBits = bits, Symmetric = symmetric, Strategy = strategy, GroupSize = 16 };
        var w = QuantizerData.ToTensor(QuantizerData.HeavyTailed(6, 48, seed: bits));
        AssertFixedPoint(w, args);
    }

    [Theory]
    [InlineData(QuantizationStrategy.Tensor)] [InlineData(QuantizationStrategy.Channel)] [InlineData(QuantizationStrategy.Group)]
    public void Fp8_quantize_dequantize_quantize_is_a_fixed_point(QuantizationStrategy strategy)
    {
        using var scope = NewDisposeScope();
        var args = QuantizationPresets.Fp8 with { Strategy = strategy, GroupSize = 16 };
        var w = QuantizerData.ToTensor(QuantizerData.HeavyTailed(6, 48, seed: 3));
        AssertFixedPoint(w, args);
    }

    // The values a weight dequantizes to are grid points, so snapping them to the same grid gives the same codes.
    static void AssertFixedPoint(Tensor w, QuantizationArgs args)
    {
        using var q = Rtn.Quantize(w, args);
        var values = q.Dequantize();
        int perScale = args.ColumnsPerScale(w.shape[1]);
        for (int g = 0; g < args.ScalesPerRow(w.shape[1]); g++)
        {
            var columns = (g * perScale)..((g + 1) * perScale);
            var p = args.Strategy == QuantizationStrategy.Tensor
                ? new QuantizationParams(q.Scale, q.ZeroPoint.to_type(ScalarType.Float32))
                : new QuantizationParams(q.Scale[.., g..(g + 1)], q.ZeroPoint[.., g..(g + 1)].to_type(ScalarType.Float32));
            var again = Quantizer.Quantize(values[.., columns], p, args);
            var stored = args.Type == QuantizationType.Float
                ? Fp8E4M3.Decode(q.Codes[.., columns])
                : q.Codes[.., columns].to_type(ScalarType.Float32);
            Assert.Equal(QuantizerData.Floats(stored), QuantizerData.Floats(again));
            Assert.Equal(QuantizerData.Floats(values[.., columns]), QuantizerData.Floats(Quantizer.Dequantize(again, p)));
        }
    }
}
