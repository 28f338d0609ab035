using Kit.Inference;
using Kit.Inference.Kernels;
using Kit.Quantization;
using static TorchSharp.torch;

namespace Kit.Tests.Inference.Kernels;

/// <summary>Weight-only layers that multiply prompts in bfloat16 (<see cref="QuantizedLinear.BFloat16Prefill"/>).</summary>
public sealed class BFloat16PrefillTests
{
    [Theory]
    [InlineData(4, 64, true)]       // int4 with zero points, act-order groups
    [InlineData(8, 32, true)]
    [InlineData(4, 100, false)]     // in order; 100 columns end in a partial block
    public void Bfloat16_rows_are_the_float32_rows_rounded_to_nearest_even_as_libtorch_rounds(int bits, int groupSize, bool shuffled)
    {
        using var scope = NewDisposeScope();
        var args = (bits == 4 ? QuantizationPresets.W4A16Asym : QuantizationPresets.W8A16 with { Symmetric = false }) with { GroupSize = groupSize };
        using var q = KernelTestData.Weight(40, 300, args, seed: 31, shuffledGroups: shuffled);
        using var packed = PackedWeight.From(q);
        var floats = new float[12 * 300];
        var halves = new ushort[12 * 300];
        RowDequantizer.Rows(packed, 20, 12, floats);
        RowDequantizer.RowsBFloat16(packed, 20, 12, halves);
        // bfloat16 → float32 is exact, so equal floats mean equal bit patterns.
        var expected = tensor(floats, new long[] { 12, 300 }).to_type(ScalarType.BFloat16).to_type(ScalarType.Float32).data<float>().ToArray();
        Assert.Equal(expected, halves.Select(h => BitConverter.UInt32BitsToSingle((uint)h << 16)).ToArray());
    }

    static QuantizedLinear Layer(out QuantizedWeight q)
    {
        q = KernelTestData.Weight(300, 320, QuantizationPresets.W4A16Asym with { GroupSize = 64 }, seed: 41, shuffledGroups: true);
        var layer = QuantizedLinear.From(q);
        layer.BFloat16Prefill = true;
        return layer;
    }

    [Fact]
    public void A_prefill_pass_is_the_product_of_the_bfloat16_rounded_x_and_weight_rounded_to_bfloat16()
    {
        using var scope = NewDisposeScope();
        using var layer = Layer(out var q);
        using var _ = q;
        var x = randn(new long[] { 2, 40, 320 }, generator: new TorchSharp.torch.Generator(42));     // 80 rows: two chunks
        var y = layer.call(x).reshape(-1, 300).to_type(ScalarType.Float64);
        var xb = x.reshape(-1, 320).to_type(ScalarType.BFloat16).to_type(ScalarType.Float64);
        var wb = q.Dequantize(ScalarType.Float32).to_type(ScalarType.BFloat16).to_type(ScalarType.Float64);
        var reference = xb.matmul(wb.t());
        var magnitude = xb.abs().matmul(wb.abs().t());
        // Rounding the float32 sum to bfloat16 moves it by at most half a unit in its 8th bit, 2⁻⁸ of itself; float32 accumulation adds far less
        // than 10⁻⁵ of Σ|x·w|. The int8-per-block kernel misses this bound by orders of magnitude where sums cancel.
        var excess = (y - reference).abs() - reference.abs() * Math.Pow(2, -8) - magnitude * 1e-5;
        Assert.True(excess.max().item<double>() <= 0, $"worst excess {excess.max().item<double>()}");
        Assert.True((y - reference).abs().max().item<double>() > 0, "the product is rounded to bfloat16");
    }

    [Fact]
    public void A_decode_step_keeps_the_int8_kernel()
    {
        using var scope = NewDisposeScope();
        using var layer = Layer(out var q);
        using var _ = q;
        var x = randn(new long[] { 3, 1, 320 }, generator: new TorchSharp.torch.Generator(43));
        var withBFloat16 = layer.call(x);
        layer.BFloat16Prefill = false;
        Assert.True(withBFloat16.equal(layer.call(x)).all().item<bool>());
    }

    [Fact]
    public void Each_sequence_of_a_prefill_pass_gets_the_values_it_gets_alone()
    {
        using var scope = NewDisposeScope();
        using var layer = Layer(out var q);
        using var _ = q;
        // 3 × 30 = 90 rows: the second sequence straddles the first and second 64-row chunk.
        var x = randn(new long[] { 3, 30, 320 }, generator: new TorchSharp.torch.Generator(44));
        var together = layer.call(x);
        for (int s = 0; s < 3; s++)
            Assert.True(together.narrow(0, s, 1).equal(layer.call(x.narrow(0, s, 1))).all().item<bool>(), $"sequence {s}");
    }

    [Fact]
    public void Exact_activations_take_precedence_over_bfloat16_prefill()
    {
        using var scope = NewDisposeScope();
        using var layer = Layer(out var q);
        using var _ = q;
        layer.ExactActivations = true;
        var x = randn(new long[] { 1, 40, 320 }, generator: new TorchSharp.torch.Generator(45)).reshape(-1, 320);
        var y = layer.call(x.view(1, 40, 320)).reshape(-1, 300).to_type(ScalarType.Float64);
        var reference = x.to_type(ScalarType.Float64).matmul(q.Dequantize(ScalarType.Float64).t());
        var magnitude = x.abs().to_type(ScalarType.Float64).matmul(q.Dequantize(ScalarType.Float64).abs().t());
        Assert.True(((y - reference).abs() / magnitude).max().item<double>() <= 1e-5);
    }
}
