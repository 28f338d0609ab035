using Kit.Formats.Gguf;
using Kit.Quantization;
using static TorchSharp.torch;

namespace Kit.Tests.Formats.Gguf;

/// <summary>Symmetric GPTQ-style grids written as Q4_0/Q8_0 blocks without requantizing.</summary>
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

    static float[] Expected(QuantizedWeight w)
    {
        // Computed here, not with QuantizedWeight.Dequantize: value = code · scale of the column's group.
        long rows = w.Codes.shape[0], columns = w.Codes.shape[1], groups = w.Scale.shape[1];
        var codes = w.Codes.data<sbyte>().ToArray();
        var scales = w.Scale.data<float>().ToArray();
        var g = w.GIdx.data<int>().ToArray();
        var values = new float[rows * columns];
        for (long r = 0; r < rows; r++)
            for (long j = 0; j < columns; j++)
                values[r * columns + j] = codes[r * columns + j] * scales[r * groups + g[j]];
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
    public void Asymmetric_grids_and_rows_not_divisible_by_32_are_refused()
    {
        using var odd = Symmetric(2, 48, 4, 16, seed: 6);
        Assert.Contains("multiple of 32", QuantizedWeightBlocks.WhyNotExact(odd));
        using var w = Symmetric(2, 64, 4, 32, seed: 7);
        var asymmetric = w with { Args = w.Args with { Symmetric = false } };
        Assert.Contains("asymmetric", QuantizedWeightBlocks.WhyNotExact(asymmetric));
    }
}
