using Kit.Inference;
using Kit.Inference.Kernels;
using Kit.Quantization;
using static TorchSharp.torch;

namespace Kit.Tests.Inference.Kernels;

public sealed class QuantizedLinearTests
{
    // Dense float64 reference: x · Wᵀ + b with W from QuantizedWeight.Dequantize (the library's tensor path,
    // independent of the packing), and Σ|x·w| + |b| for the tolerance.
    static (Tensor Y, Tensor Magnitude) Dense(Tensor x, QuantizedWeight q, Tensor? bias)
    {
        var w = q.Dequantize(ScalarType.Float64);
        var x64 = x.to_type(ScalarType.Float64);
        var y = x64.matmul(w.t());
        var magnitude = x64.abs().matmul(w.abs().t());
        if (bias is not null)
        {
            y += bias.to_type(ScalarType.Float64);
            magnitude += bias.to_type(ScalarType.Float64).abs();
        }
        return (y, magnitude);
    }

    static void AssertClose(Tensor y, (Tensor Y, Tensor Magnitude) reference, double tolerance)
    {
        Assert.Equal(reference.Y.shape, y.shape);
        var error = (y.to_type(ScalarType.Float64) - reference.Y).abs();
        var worst = (error / (reference.Magnitude + 1e-30)).max().item<double>();
        Assert.True(worst <= tolerance, $"worst error relative to Σ|x·w| is {worst}");
    }

    [Theory]
    [InlineData(new long[] { 1, 1, 320 })]      // decode: one token
    [InlineData(new long[] { 2, 3, 320 })]      // six rows: the kernels
    [InlineData(new long[] { 16, 320 })]
    [InlineData(new long[] { 32, 320 })]        // the largest kernel batch
    [InlineData(new long[] { 2, 40, 320 })]     // prefill: tiles of decoded rows and a dense matmul
    public void Exact_activations_forward_equals_dense_linear_with_the_dequantized_weight(long[] shape)
    {
        using var scope = NewDisposeScope();
        using var q = KernelTestData.Weight(300, 320, QuantizationPresets.W4A16Asym with { GroupSize = 64 }, seed: 21, shuffledGroups: true);
        var bias = randn(300, generator: new TorchSharp.torch.Generator(5));
        using var layer = QuantizedLinear.From(q, bias);
        layer.ExactActivations = true;
        var x = randn(shape, generator: new TorchSharp.torch.Generator(6));
        var y = layer.call(x);
        Assert.Equal(new[] { shape[..^1], new long[] { 300 } }.SelectMany(s => s).ToArray(), y.shape);
        Assert.Equal(ScalarType.Float32, y.dtype);
        AssertClose(y.reshape(-1, 300), Dense(x.reshape(-1, 320), q, bias), 1e-5);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(130)]
    public void Weight_only_layer_quantizes_activations_per_block_by_default(int rows)
    {
        using var scope = NewDisposeScope();
        using var q = KernelTestData.Weight(40, 200, QuantizationPresets.W4A16 with { GroupSize = 64 }, seed: 22, shuffledGroups: true);
        using var layer = QuantizedLinear.From(q);
        Assert.False(layer.ExactActivations);
        var x = randn(new long[] { rows, 200 }, generator: new TorchSharp.torch.Generator(23));
        var (values, _) = BlockInt8KernelTests.BlockQuantized(x.data<float>().ToArray(), rows, q.GIdx.data<int>().ToArray());
        var xq = tensor(values, new long[] { rows, 200 });
        AssertClose(layer.call(x), Dense(xq, q, null), 1e-5);
    }

    [Fact]
    public void Bfloat16_input_comes_back_in_bfloat16_with_the_float32_result_rounded()
    {
        using var scope = NewDisposeScope();
        using var q = KernelTestData.Weight(64, 128, QuantizationPresets.W8A16, seed: 2);
        using var layer = QuantizedLinear.From(q);
        layer.ExactActivations = true;
        var x = randn(new long[] { 3, 128 }, generator: new TorchSharp.torch.Generator(7)).to_type(ScalarType.BFloat16);
        var y = layer.call(x);
        Assert.Equal(ScalarType.BFloat16, y.dtype);
        // bf16 keeps 8 significant bits: the output is the exact product rounded to that.
        AssertClose(y, Dense(x, q, null), 1e-2);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(5)]
    [InlineData(40)]
    [InlineData(131)]
    public void W8a8_layer_equals_dense_linear_on_per_token_int8_activations(int rows)
    {
        using var scope = NewDisposeScope();
        using var q = KernelTestData.Weight(48, 200, QuantizationPresets.W8A8, seed: 8);
        using var layer = QuantizedLinear.From(q, inputActivations: "int8-dynamic-token");
        Assert.True(layer.QuantizesActivations);
        var x = randn(new long[] { rows, 200 }, generator: new TorchSharp.torch.Generator(9));
        // Per-token grid written out: scale = absmax / 127, codes rounded half to even.
        var scale = x.abs().amax(new long[] { 1 }, keepdim: true) / 127f;
        var xq = (x / scale).round().clamp(-127, 127) * scale;
        AssertClose(layer.call(x), Dense(xq, q, null), 1e-5);
    }

    [Fact]
    public void W4a8_scheme_keeps_int4_weights_weight_only()
    {
        using var q = KernelTestData.Weight(16, 64, QuantizationPresets.W4A16 with { GroupSize = 32 }, seed: 4);
        using var layer = QuantizedLinear.From(q, inputActivations: "int8-dynamic-token");
        Assert.False(layer.QuantizesActivations);
        Assert.Throws<NotSupportedException>(() => QuantizedLinear.From(q, inputActivations: "fp8-dynamic-token"));
    }

    [Fact]
    public void Weight_bytes_are_the_packed_codes_scales_zero_points_and_bias()
    {
        using var scope = NewDisposeScope();
        // int4 asymmetric, groups of 128 over 256 columns: 128 bytes of codes, 2 scales (8 bytes) and
        // 2 zero points (2 bytes) per row; the layout holds 3 group starts (12 bytes); bias 64 floats.
        using var q4 = KernelTestData.Weight(64, 256, QuantizationPresets.W4A16Asym, seed: 1);
        using var int4 = QuantizedLinear.From(q4, zeros(64));
        Assert.Equal(64 * (128 + 8 + 2) + 12 + 64 * 4, int4.WeightBytes);
        // int8 symmetric per channel: 256 bytes and one scale per row, no zero points.
        using var q8 = KernelTestData.Weight(64, 256, QuantizationPresets.W8A8, seed: 1);
        using var int8 = QuantizedLinear.From(q8);
        Assert.Equal(64 * (256 + 4) + 8, int8.WeightBytes);
    }

    [Fact]
    public void Packed_dequantize_reproduces_the_quantized_weight_for_act_order_groups()
    {
        using var scope = NewDisposeScope();
        using var q = KernelTestData.Weight(24, 200, QuantizationPresets.W4A16Asym with { GroupSize = 48 }, seed: 12, shuffledGroups: true);
        using var packed = PackedWeight.From(q);
        Assert.Equal(0, (packed.Dequantize() - q.Dequantize()).abs().max().item<float>());
    }

    [Fact]
    public void Row_dequantizer_writes_the_weight_rows_in_input_order()
    {
        using var scope = NewDisposeScope();
        using var q = KernelTestData.Weight(40, 100, QuantizationPresets.W8A16 with { Symmetric = false, GroupSize = 32 }, seed: 13, shuffledGroups: true);
        using var packed = PackedWeight.From(q);
        var rows = new float[10 * 100];
        RowDequantizer.Rows(packed, 25, 10, rows);
        var expected = KernelTestData.Values(q);
        for (int r = 0; r < 10; r++)
            for (int j = 0; j < 100; j++)
                Assert.True(Math.Abs(rows[r * 100 + j] - expected[25 + r][j]) <= 1e-6 * Math.Abs(expected[25 + r][j]) + 1e-9, $"[{25 + r}, {j}]");
    }

    [Fact]
    public void Fp8_weights_are_not_packed()
    {
        using var scope = NewDisposeScope();
        using var q = Rtn.Quantize(randn(8, 32), QuantizationPresets.Fp8);
        var error = Assert.Throws<NotSupportedException>(() => PackedWeight.From(q));
        Assert.Contains("Args.Type", error.Message);
    }
}
