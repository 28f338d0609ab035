using Kit.Formats.Gguf;
using Kit.Quantization;
using static TorchSharp.torch;

namespace Kit.Tests.Formats.Gguf;

/// <summary>GPTQ-style grids written as Q4_0/Q8_0 (symmetric) and Q4_1 (asymmetric) blocks without requantizing.</summary>
public sealed class QuantizedWeightBlocksTests
{
    /// <summary>Codes in [qmin, qmax] and fp16-exact scales, one per group of <paramref name="groupSize"/> columns.</summary>
    internal static QuantizedWeight Symmetric(int rows, int columns, int bits, int groupSize, int seed, Func<int, long>? gIdx = null)
    {
        var random = new Random(seed);
        int qmin = -(1 << (bits - 1)), qmax = (1 << (bits - 1)) - 1;
        var codes = Enumerable.Range(0, rows * columns).Select(_ => (sbyte)random.Next(qmin, qmax + 1)).ToArray();
        int groups = columns / groupSize;
        var scales = Enumerable.Range(0, rows * groups).Select(_ => (float)(Half)(0.001 + random.NextDouble() * 0.05)).ToArray();
        var index = Enumerable.Range(0, columns).Select(j => gIdx?.Invoke(j) ?? j / groupSize).Select(g => (int)g).ToArray();
        var args = new QuantizationArgs { NumBits = bits, GroupSize = groupSize, Symmetric = true };
        return new QuantizedWeight(tensor(codes, rows, columns), tensor(scales, rows, groups), zeros(rows, groups, ScalarType.Int8),
            tensor(index), args);
    }

    /// <summary>
    /// A 4-bit asymmetric grid whose Q4_1 offsets are fp16-exact: scales k·2⁻¹⁰ with k &lt; 128 (7 significant bits)
    /// make m = −(z + 8)·s a multiple of 2⁻¹⁰ below 15·128, which fp16's 11 bits hold.
    /// </summary>
    internal static QuantizedWeight Asymmetric(int rows, int columns, int groupSize, int seed)
    {
        var random = new Random(seed);
        var codes = Enumerable.Range(0, rows * columns).Select(_ => (sbyte)random.Next(-8, 8)).ToArray();
        int groups = columns / groupSize;
        var scales = Enumerable.Range(0, rows * groups).Select(_ => random.Next(16, 128) / 1024f).ToArray();
        var zeros = Enumerable.Range(0, rows * groups).Select(_ => (sbyte)random.Next(-8, 8)).ToArray();
        var index = Enumerable.Range(0, columns).Select(j => j / groupSize).ToArray();
        var args = new QuantizationArgs { NumBits = 4, GroupSize = groupSize, Symmetric = false };
        return new QuantizedWeight(tensor(codes, rows, columns), tensor(scales, rows, groups), tensor(zeros, rows, groups), tensor(index), args);
    }

    static float[] Expected(QuantizedWeight w)
    {
        // Computed here, not with QuantizedWeight.Dequantize: value = (code − zero point) · scale of the column's group.
        long rows = w.Codes.shape[0], columns = w.Codes.shape[1], groups = w.Scale.shape[1];
        var codes = w.Codes.data<sbyte>().ToArray();
        var scales = w.Scale.data<float>().ToArray();
        var zeros = w.ZeroPoint.data<sbyte>().ToArray();
        var g = w.GIdx.data<int>().ToArray();
        var values = new float[rows * columns];
        for (long r = 0; r < rows; r++)
            for (long j = 0; j < columns; j++)
                values[r * columns + j] = (codes[r * columns + j] - zeros[r * groups + g[j]]) * scales[r * groups + g[j]];
        return values;
    }

    static float[] Decode(GgmlBlockEncoding blocks, long count)
    {
        var values = new float[count];
        GgmlQuants.Dequantize(blocks.Type, blocks.Bytes, values);
        return values;
    }

    [Fact]
    public void Four_bit_groups_of_32_become_q4_0_blocks_exactly()
    {
        using var w = Symmetric(6, 128, 4, 32, seed: 1);
        var blocks = QuantizedWeightBlocks.Encode(w)!;
        Assert.Equal(GgmlType.Q4_0, blocks.Type);
        Assert.Equal(6 * 4 * 18, blocks.Bytes.Length);
        Assert.Equal(0, blocks.MaxDeviation);
        Assert.Equal(Expected(w), Decode(blocks, 6 * 128));
        // Byte layout of the first block: nibble = code + 8, element j low, element j + 16 high.
        var codes = w.Codes.data<sbyte>().ToArray();
        for (int j = 0; j < 16; j++)
            Assert.Equal((byte)((codes[j] + 8) | ((codes[j + 16] + 8) << 4)), blocks.Bytes[2 + j]);
        Assert.Equal((Half)w.Scale[0, 0].item<float>(), BitConverter.ToHalf(blocks.Bytes, 0));
    }

    [Fact]
    public void Groups_of_128_repeat_one_scale_in_four_blocks()
    {
        using var w = Symmetric(3, 256, 4, 128, seed: 2);
        var blocks = QuantizedWeightBlocks.Encode(w)!;
        Assert.Equal(Expected(w), Decode(blocks, 3 * 256));
        for (int r = 0; r < 3; r++)
            for (int g = 0; g < 2; g++)
            {
                var d = (Half)w.Scale[r, g].item<float>();
                for (int b = 0; b < 4; b++)
                    Assert.Equal(d, BitConverter.ToHalf(blocks.Bytes, ((r * 8) + g * 4 + b) * 18));
            }
    }

    [Fact]
    public void Eight_bit_groups_become_q8_0_blocks_exactly()
    {
        using var w = Symmetric(4, 64, 8, 32, seed: 3);
        var blocks = QuantizedWeightBlocks.Encode(w)!;
        Assert.Equal(GgmlType.Q8_0, blocks.Type);
        Assert.Equal(Expected(w), Decode(blocks, 4 * 64));
        Assert.Equal((byte)w.Codes[0, 5].item<sbyte>(), blocks.Bytes[2 + 5]);
    }

    [Fact]
    public void Scales_that_are_not_fp16_exact_report_the_deviation()
    {
        using var w = Symmetric(1, 32, 4, 32, seed: 4);
        w.Scale.fill_(0.1f);
        w.Codes.fill_(-8);
        var blocks = QuantizedWeightBlocks.Encode(w)!;
        double expected = 8 * Math.Abs((double)(float)(Half)0.1f - 0.1f);
        Assert.True(expected > 0);
        Assert.Equal(expected, blocks.MaxDeviation, 12);
    }

    [Fact]
    public void Act_order_groups_that_split_a_block_are_refused()
    {
        // Columns alternate between two groups of 32: every 32-column block mixes scales.
        using var w = Symmetric(2, 64, 4, 32, seed: 5, gIdx: j => j % 2);
        Assert.Contains("spans two groups", QuantizedWeightBlocks.WhyNotExact(w));
        Assert.Null(QuantizedWeightBlocks.Encode(w));
    }

    [Fact]
    public void Asymmetric_8bit_grids_and_rows_not_divisible_by_32_are_refused()
    {
        using var odd = Symmetric(2, 48, 4, 16, seed: 6);
        Assert.Contains("multiple of 32", QuantizedWeightBlocks.WhyNotExact(odd));
        using var w = Symmetric(2, 64, 8, 32, seed: 7);
        var asymmetric = w with { Args = w.Args with { Symmetric = false } };
        Assert.Contains("no zero point", QuantizedWeightBlocks.WhyNotExact(asymmetric));
        Assert.Null(QuantizedWeightBlocks.Encode(asymmetric));
    }

    [Theory]
    [InlineData(32)]
    [InlineData(128)]
    public void Asymmetric_4bit_groups_become_q4_1_blocks_that_ggmls_decoder_reads_exactly(int groupSize)
    {
        using var w = Asymmetric(5, 256, groupSize, seed: 20 + groupSize);
        var blocks = QuantizedWeightBlocks.Encode(w)!;
        Assert.Equal(GgmlType.Q4_1, blocks.Type);
        Assert.Equal(5 * 8 * 20, blocks.Bytes.Length);
        Assert.Equal((0.0, 0), (blocks.MaxDeviation, blocks.RoundedOffsets));
        Assert.Equal(Expected(w), SpecQ4_1Decoder.Decode(blocks.Bytes));
        // First block: d = scale, m = −(zero point + 8)·scale, nibble = code + 8 with element j low and j + 16 high.
        float s = w.Scale[0, 0].item<float>();
        int z = w.ZeroPoint[0, 0].item<sbyte>();
        Assert.Equal((Half)s, BitConverter.ToHalf(blocks.Bytes, 0));
        Assert.Equal((Half)(-(z + 8) * s), BitConverter.ToHalf(blocks.Bytes, 2));
        var codes = w.Codes.data<sbyte>().ToArray();
        for (int j = 0; j < 16; j++)
            Assert.Equal((byte)((codes[j] + 8) | ((codes[j + 16] + 8) << 4)), blocks.Bytes[4 + j]);
    }

    /// <summary>Weights [rows, columns] lying on an asymmetric grid with fp16-exact d and m, every group spanning codes −8…7.</summary>
    static Tensor OnGridWeights(int rows, int columns, int groupSize, int seed)
    {
        using var w = Asymmetric(rows, columns, groupSize, seed);
        var codes = w.Codes.clone();
        // Pin each group's extremes so that its fitted range [min, max] is exactly [−(z + 8)·s, (7 − z)·s].
        for (int g = 0; g < columns / groupSize; g++)
        {
            codes[.., g * groupSize].fill_(-8);
            codes[.., g * groupSize + 1].fill_(7);
        }
        return (w with { Codes = codes }).Dequantize();
    }

    [Theory]
    [InlineData(32)]
    [InlineData(128)]
    public void Rtn_and_gptq_of_weights_on_an_fp16_exact_asymmetric_grid_export_bit_exactly(int groupSize)
    {
        using var scope = NewDisposeScope();
        var weights = OnGridWeights(8, 256, groupSize, seed: 30 + groupSize);
        var args = new QuantizationArgs { NumBits = 4, GroupSize = groupSize, Symmetric = false };
        var x = randn(512, 256, generator: manual_seed(3));
        var h = x.T.matmul(x);
        using var rtn = Rtn.Quantize(weights, args);
        using var gptq = Gptq.Quantize(weights, h, args);
        foreach (var q in new[] { rtn, gptq.Quantized! })
        {
            var blocks = QuantizedWeightBlocks.Encode(q)!;
            Assert.Equal((GgmlType.Q4_1, 0.0, 0), (blocks.Type, blocks.MaxDeviation, blocks.RoundedOffsets));
            Assert.Equal(q.Dequantize().data<float>().ToArray(), SpecQ4_1Decoder.Decode(blocks.Bytes));
            Assert.Equal(weights.data<float>().ToArray(), SpecQ4_1Decoder.Decode(blocks.Bytes));
        }
    }

    [Theory]
    [InlineData(32)]
    [InlineData(128)]
    public void Rtn_and_gptq_w4_asymmetric_export_within_the_fp16_rounding_of_d_and_m(int groupSize)
    {
        using var scope = NewDisposeScope();
        var weights = randn(16, 256, generator: manual_seed(groupSize)) * 0.05f;
        var args = new QuantizationArgs { NumBits = 4, GroupSize = groupSize, Symmetric = false };
        var x = randn(512, 256, generator: manual_seed(4));
        using var rtn = Rtn.Quantize(weights, args);
        using var gptq = Gptq.Quantize(weights, x.T.matmul(x), args);
        foreach (var q in new[] { rtn, gptq.Quantized! })
        {
            var blocks = QuantizedWeightBlocks.Encode(q)!;
            Assert.Equal(GgmlType.Q4_1, blocks.Type);
            Assert.True(blocks.RoundedOffsets > 0, "float32 scales should give some offsets fp16 cannot hold");
            var decoded = SpecQ4_1Decoder.Decode(blocks.Bytes);
            var codes = q.Codes.data<sbyte>().ToArray();
            var scales = q.Scale.data<float>().ToArray();
            var zeros = q.ZeroPoint.data<sbyte>().ToArray();
            int groups = 256 / groupSize;
            double worst = 0, worstInSteps = 0;
            for (int i = 0; i < decoded.Length; i++)
            {
                int g = i / 256 * groups + i % 256 / groupSize;
                float s = scales[g];
                double d = (float)(Half)s, m = -(zeros[g] + 8) * d;
                double exact = (codes[i] - zeros[g]) * (double)s;
                // |nibble·d + fp16(m) − (q − z)·s| ≤ |q − z|·|d − s| + half an fp16 ulp of m (+ float32 rounding of the sum).
                double halfUlp = Math.Pow(2, Math.Floor(Math.Log2(Math.Abs(m))) - 11);
                double bound = Math.Abs(codes[i] - zeros[g]) * Math.Abs(d - s) + halfUlp + Math.Abs(exact) * 1e-7 + 1e-12;
                double error = Math.Abs(decoded[i] - exact);
                Assert.True(error <= bound, $"element {i}: |Δ| {error} above {bound}");
                worst = Math.Max(worst, error);
                worstInSteps = Math.Max(worstInSteps, error / s);
            }
            Assert.Equal(worst, blocks.MaxDeviation, 12);
            Assert.True(worst > 0);
            // Both roundings are relative to fp16's 11 bits: at most 15·s·2⁻¹¹ each, under 1.5% of a step.
            Assert.True(worstInSteps <= 15.0 / 1024, $"{worstInSteps} steps");
        }
    }

    [Theory]
    [InlineData(4, true, 1e-5f, "subnormal")]
    [InlineData(8, true, 2e-8f, "zero")]
    [InlineData(4, false, 3e-6f, "subnormal")]
    [InlineData(8, true, 70000f, "overflows fp16")]
    [InlineData(4, false, float.NaN, "not finite")]
    public void Scales_fp16_cannot_hold_are_refused_naming_tensor_row_group_and_value(int bits, bool symmetric, float scale, string problem)
    {
        using var w = symmetric ? Symmetric(3, 128, bits, 32, seed: 40) : Asymmetric(3, 128, 32, seed: 40);
        w.Scale[1, 2] = tensor(scale);
        w.Codes[1, 64] = tensor((sbyte)(w.ZeroPoint[1, 2].item<sbyte>() == 1 ? 2 : 1));   // the block holds a nonzero value
        var e = Assert.Throws<ArgumentException>(() => QuantizedWeightBlocks.CheckScales(w, "model.layers.3.mlp.up_proj.weight"));
        Assert.Contains("model.layers.3.mlp.up_proj.weight", e.Message);
        Assert.Contains("row 1, group 2", e.Message);
        Assert.Contains(scale.ToString("R"), e.Message);
        Assert.Contains(problem, e.Message);
        Assert.Throws<ArgumentException>(() => QuantizedWeightBlocks.Encode(w));
    }

    [Fact]
    public void A_q4_1_offset_that_overflows_fp16_is_refused()
    {
        // d = 30000 is finite in fp16, but zero point 0 makes m = −8·30000 = −240000, beyond 65504.
        using var w = Asymmetric(2, 64, 32, seed: 41);
        w.Scale[0, 1] = tensor(30000f);
        w.ZeroPoint[0, 1] = tensor((sbyte)0);
        w.Codes[0, 40] = tensor((sbyte)3);
        var e = Assert.Throws<ArgumentException>(() => QuantizedWeightBlocks.CheckScales(w, "w"));
        Assert.Contains("row 0, group 1", e.Message);
        Assert.Contains("m = -240000", e.Message);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void All_zero_groups_with_a_tiny_scale_are_stored_as_zeros_not_refused(bool symmetric)
    {
        // RTN gives an all-zero group the floor scale 2⁻²³ (an fp16 subnormal); its values do not depend on it.
        using var scope = NewDisposeScope();
        var weights = randn(4, 64, generator: manual_seed(5));
        weights[2, ..32] = zeros(32);
        using var q = Rtn.Quantize(weights, new QuantizationArgs { NumBits = 4, GroupSize = 32, Symmetric = symmetric });
        Assert.True(q.Scale[2, 0].item<float>() < QuantizedWeightBlocks.MinNormalHalf);
        var blocks = QuantizedWeightBlocks.Encode(q)!;
        int blockBytes = GgmlQuants.BytesPerBlock(blocks.Type);
        Assert.All(blocks.Bytes.AsSpan(2 * 2 * blockBytes, symmetric ? 2 : 4).ToArray(), b => Assert.Equal(0, b));   // d (and m) = 0
        var decoded = new float[4 * 64];
        GgmlQuants.Dequantize(blocks.Type, blocks.Bytes, decoded);
        Assert.All(decoded.AsSpan(2 * 64, 32).ToArray(), v => Assert.Equal(0f, v));
        Assert.Equal(q.Dequantize().data<float>().ToArray(), decoded, new ToleranceComparer(blocks.MaxDeviation));
    }

    sealed class ToleranceComparer(double tolerance) : IEqualityComparer<float>
    {
        public bool Equals(float a, float b) => Math.Abs(a - b) <= tolerance;
        public int GetHashCode(float v) => 0;
    }
}
