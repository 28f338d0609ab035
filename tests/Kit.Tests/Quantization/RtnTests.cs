using Kit.Quantization;
using static TorchSharp.torch;

namespace Kit.Tests.Quantization;

public sealed class RtnTests
{
    public static TheoryData<int, bool, QuantizationStrategy> Grids()
    {
        var data = new TheoryData<int, bool, QuantizationStrategy>();
        for (int bits = 2; bits <= 8; bits++)
            foreach (var symmetric in new[] { true, false })
                data.Add(bits, symmetric, bits % 2 == 0 ? QuantizationStrategy.Group : QuantizationStrategy.Channel);
        data.Add(4, false, QuantizationStrategy.Tensor);
        data.Add(8, true, QuantizationStrategy.Tensor);
        return data;
    }

    [Theory]
    [MemberData(nameof(Grids))]
    public void Rtn_picks_the_nearest_grid_point_found_by_brute_force(int bits, bool symmetric, QuantizationStrategy strategy)
    {
        using var scope = NewDisposeScope();
        var args = new QuantizationArgs { NumBits = bits, Symmetric = symmetric, Strategy = strategy, GroupSize = 16 };
        var rows = QuantizerData.AsFloat32(QuantizerData.Normal(6, 64, seed: 100 + bits));
        using var q = Rtn.Quantize(QuantizerData.ToTensor(rows), args);
        var codes = QuantizerData.Rows(q.Codes);
        var scales = QuantizerData.Rows(q.Scale);
        var zeros = QuantizerData.Rows(q.ZeroPoint);
        int perScale = args.ColumnsPerScale(64);
        for (int r = 0; r < rows.Length; r++)
            for (int c = 0; c < 64; c++)
            {
                int sr = scales.Length == 1 ? 0 : r, g = scales[0].Length == 1 ? 0 : c / perScale;
                double scale = scales[sr][g], zero = zeros[sr][g];
                double chosen = Math.Abs((codes[r][c] - zero) * scale - rows[r][c]);
                QuantizerReference.NearestByBruteForce(rows[r][c], scale, zero, bits, out double nearest);
                // float32 division may flip an exact tie, nothing more.
                Assert.True(chosen <= nearest + 1e-5 * scale, $"[{r},{c}] = {rows[r][c]}: code {codes[r][c]} is {chosen} away, the nearest grid point {nearest}");
            }
    }

    [Theory]
    [MemberData(nameof(Grids))]
    public void Rtn_scales_follow_compressed_tensors_formulas_per_group(int bits, bool symmetric, QuantizationStrategy strategy)
    {
        using var scope = NewDisposeScope();
        var args = new QuantizationArgs { NumBits = bits, Symmetric = symmetric, Strategy = strategy, GroupSize = 16 };
        var rows = QuantizerData.AsFloat32(QuantizerData.HeavyTailed(4, 64, seed: 200 + bits));
        using var q = Rtn.Quantize(QuantizerData.ToTensor(rows), args);
        var scales = QuantizerData.Rows(q.Scale);
        var zeros = QuantizerData.Rows(q.ZeroPoint);
        int perScale = args.ColumnsPerScale(64);
        for (int sr = 0; sr < scales.Length; sr++)
            for (int g = 0; g < scales[0].Length; g++)
            {
                var block = strategy == QuantizationStrategy.Tensor
                    ? rows.SelectMany(r => r).ToArray()
                    : rows[sr].Skip(g * perScale).Take(perScale).ToArray();
                var (scale, zero) = QuantizerReference.Grid(block.Min(), block.Max(), bits, symmetric);
                Assert.Equal(scale, scales[sr][g], scale * 1e-6);
                Assert.Equal(zero, zeros[sr][g]);
            }
    }

    [Fact]
    public void Group_scales_and_gidx_have_the_compressed_tensors_shapes()
    {
        using var scope = NewDisposeScope();
        var w = QuantizerData.ToTensor(QuantizerData.Normal(3, 48, seed: 1));
        using var q = Rtn.Quantize(w, new QuantizationArgs { NumBits = 4, GroupSize = 16 });
        Assert.Equal(new long[] { 3, 48 }, q.Codes.shape);
        Assert.Equal(ScalarType.Int8, q.Codes.dtype);
        Assert.Equal(new long[] { 3, 3 }, q.Scale.shape);
        Assert.Equal(Enumerable.Range(0, 48).Select(j => j / 16).ToArray(), q.GIdx.data<int>().ToArray());
    }

    public static TheoryData<QuantizationArgs> AllKinds() => new()
    {
        new QuantizationArgs { NumBits = 4, GroupSize = 16 },
        new QuantizationArgs { NumBits = 3, Symmetric = false, Strategy = QuantizationStrategy.Channel, GroupSize = null },
        new QuantizationArgs { NumBits = 8, Strategy = QuantizationStrategy.Tensor, GroupSize = null },
        new QuantizationArgs { NumBits = 4, Symmetric = false, GroupSize = 16, Observer = QuantizationObserver.Mse },
        QuantizationPresets.Fp8,
        QuantizationPresets.Fp8Dynamic,
        QuantizationPresets.Fp8 with { Strategy = QuantizationStrategy.Group, GroupSize = 16 },
    };

    [Theory]
    [MemberData(nameof(AllKinds))]
    public void Dequantize_equals_the_fake_quantized_weight(QuantizationArgs args)
    {
        using var scope = NewDisposeScope();
        var w = QuantizerData.ToTensor(QuantizerData.HeavyTailed(5, 48, seed: 9));
        using var q = Rtn.Quantize(w, args);
        int perScale = args.ColumnsPerScale(48);
        var expected = cat(Enumerable.Range(0, args.ScalesPerRow(48)).Select(g =>
        {
            var block = w[.., (g * perScale)..((g + 1) * perScale)];
            return Quantizer.FakeQuantize(block, Quantizer.Fit(block, args), args);
        }).ToArray(), 1);
        Assert.Equal(QuantizerData.Floats(expected), QuantizerData.Floats(q.Dequantize()));
        if (args.Observer == QuantizationObserver.MinMax)
        {
            // Min-max grids cover every value: the error is at most one step (half a step inside the range,
            // up to one where an asymmetric zero point's rounding shifts the ends), FP8's top step is 32.
            var error = (q.Dequantize() - w).abs().max().item<float>();
            double step = args.Type == QuantizationType.Float ? 16 : 1.0001;
            Assert.True(error <= q.Scale.max().item<float>() * step, $"max error {error}");
        }
    }

    [Fact]
    public void Dequantize_converts_to_the_requested_dtype()
    {
        using var scope = NewDisposeScope();
        var w = QuantizerData.ToTensor(QuantizerData.Normal(2, 16, seed: 2));
        using var q = Rtn.Quantize(w, new QuantizationArgs { NumBits = 8, GroupSize = 16 });
        var bf16 = q.Dequantize(ScalarType.BFloat16);
        Assert.Equal(ScalarType.BFloat16, bf16.dtype);
        Assert.Equal(QuantizerData.Floats(q.Dequantize().to_type(ScalarType.BFloat16)), QuantizerData.Floats(bf16));
    }

    [Theory]
    [MemberData(nameof(AllKinds))]
    public void Rtn_is_deterministic(QuantizationArgs args)
    {
        using var scope = NewDisposeScope();
        var w = QuantizerData.ToTensor(QuantizerData.HeavyTailed(4, 32, seed: 11));
        using var a = Rtn.Quantize(w, args);
        using var b = Rtn.Quantize(w.clone(), args);
        Assert.Equal(QuantizerData.Floats(a.Codes), QuantizerData.Floats(b.Codes));
        Assert.Equal(QuantizerData.Floats(a.Scale), QuantizerData.Floats(b.Scale));
        Assert.Equal(QuantizerData.Floats(a.ZeroPoint), QuantizerData.Floats(b.ZeroPoint));
    }
}
