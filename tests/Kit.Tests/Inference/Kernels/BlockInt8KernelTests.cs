using Kit.Inference.Kernels;
using Kit.Quantization;

namespace Kit.Tests.Inference.Kernels;

public sealed class BlockInt8KernelTests
{
    /// <summary>
    /// x quantized per block as the definition says (Q8_0): the blocks are each group's columns in increasing
    /// order, 32 at a time; scale = the block's absmax / 127 and codes round(x / scale) half to even in float32,
    /// clamped to ±127. Returns x̂ = scale · q in float64 and each column's scale, [batch · columns].
    /// </summary>
    internal static (double[] Values, double[] Scales) BlockQuantized(float[] x, int batch, int[] gIdx)
    {
        int columns = gIdx.Length;
        var values = new double[x.Length];
        var scales = new double[x.Length];
        var blocks = gIdx.Select((g, j) => (g, j)).GroupBy(p => p.g).SelectMany(group => group.Select(p => p.j).Order().Chunk(32));
        foreach (var block in blocks)
            for (int b = 0; b < batch; b++)
            {
                float absMax = block.Max(j => Math.Abs(x[b * columns + j]));
                float scale = absMax / 127f;
                foreach (int j in block)
                {
                    float quotient = scale == 0 ? 0 : x[b * columns + j] / scale;
                    values[b * columns + j] = scale * Math.Clamp(Math.Round(quotient, MidpointRounding.ToEven), -127, 127);
                    scales[b * columns + j] = scale;
                }
            }
        return (values, scales);
    }

    public static TheoryData<int, bool, QuantizationStrategy, int?, int, int, bool> Cases() => new()
    {
        // bits, symmetric, strategy, group size, columns, batch, act-order
        { 4, true, QuantizationStrategy.Group, 32, 256, 1, false },
        { 4, false, QuantizationStrategy.Group, 32, 256, 2, false },
        { 4, true, QuantizationStrategy.Group, 64, 320, 3, false },
        { 4, false, QuantizationStrategy.Group, 128, 384, 4, false },
        { 4, false, QuantizationStrategy.Group, 128, 512, 5, true },
        { 4, true, QuantizationStrategy.Channel, null, 300, 1, false },
        { 4, false, QuantizationStrategy.Channel, null, 257, 5, false },
        // padded last groups: 200 = 3 · 64 + 8, 150 = 3 · 48 + 6 (groups of 48 take two blocks each)
        { 4, false, QuantizationStrategy.Group, 64, 200, 3, false },
        { 4, true, QuantizationStrategy.Group, 48, 150, 2, true },
        // groups of an odd number of blocks (96 = 3, 160 = 5): a pair of blocks straddles two groups, and the pair after it
        // lies in one
        { 4, false, QuantizationStrategy.Group, 96, 384, 3, false },
        { 4, true, QuantizationStrategy.Group, 96, 288, 9, true },
        { 8, true, QuantizationStrategy.Group, 160, 480, 8, false },
        { 8, true, QuantizationStrategy.Group, 32, 160, 1, false },
        { 8, false, QuantizationStrategy.Group, 64, 256, 4, true },
        { 8, true, QuantizationStrategy.Group, 128, 384, 2, false },
        { 8, false, QuantizationStrategy.Group, 128, 300, 5, false },
        { 8, true, QuantizationStrategy.Channel, null, 200, 3, false },
        { 8, false, QuantizationStrategy.Channel, null, 101, 1, false },
        // Prefill: batches that cross the kernel's 64-row activation blocks and end in tiles of 2, 3 and 1 rows.
        { 4, true, QuantizationStrategy.Group, 128, 384, 130, false },
        { 4, false, QuantizationStrategy.Group, 32, 160, 131, true },
        { 8, true, QuantizationStrategy.Channel, null, 96, 513, false },
    };

    [Fact]
    public void Prefill_crosses_weight_blocks_and_activation_blocks_and_matches_the_reference()
    {
        // 4096 int8 columns make 32 weight rows per 128 KiB block: 70 rows take three blocks, 67 rows of x two activation blocks.
        const int rows = 70, columns = 4096, batch = 67;
        using var q = KernelTestData.Weight(rows, columns, QuantizationPresets.W8A16, seed: 70);
        using var packed = PackedWeight.From(q);
        var x = KernelTestData.Activations(batch, columns, seed: 71);
        var (values, _) = BlockQuantized(x, batch, q.GIdx.data<int>().ToArray());
        var reference = KernelTestData.Reference(values, batch, KernelTestData.Values(q));
        foreach (var path in QuantizedMatmulTests.Paths.Skip(1))
        {
            var y = new float[batch * rows];
            QuantizedMatmul.Multiply(packed, x, batch, y, KernelActivations.Int8PerBlock, path);
            KernelTestData.AssertClose(y, reference, 1e-5);
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Block_int8_kernel_equals_the_product_with_block_quantized_activations_and_stays_within_the_rounding_bound(
        int bits, bool symmetric, QuantizationStrategy strategy, int? groupSize, int columns, int batch, bool actOrder)
    {
        const int rows = 23;
        var args = new QuantizationArgs { NumBits = bits, Symmetric = symmetric, Strategy = strategy, GroupSize = groupSize };
        using var q = KernelTestData.Weight(rows, columns, args, seed: bits * 1000 + columns + batch, shuffledGroups: actOrder);
        using var packed = PackedWeight.From(q);
        var x = KernelTestData.Activations(batch, columns, seed: columns + 3 * batch);
        var w = KernelTestData.Values(q);
        var (values, scales) = BlockQuantized(x, batch, q.GIdx.data<int>().ToArray());
        var quantized = KernelTestData.Reference(values, batch, w);
        var exact = KernelTestData.Reference(x, batch, w);
        foreach (var path in QuantizedMatmulTests.Paths)
        {
            var y = new float[batch * rows];
            QuantizedMatmul.Multiply(packed, x, batch, y, KernelActivations.Int8PerBlock, path);
            // Float32 rounding of the block terms only: the codes and their dot products must be the definition's.
            KernelTestData.AssertClose(y, quantized, 1e-5);
            for (int b = 0; b < batch; b++)
                for (int r = 0; r < rows; r++)
                {
                    // |x̂ − x| ≤ scale / 2 per activation (|x / scale| ≤ 127, so nothing clamps), plus the float32
                    // rounding of x / scale (relative 2^−24 of a quotient ≤ 127.5): |Δy| ≤ Σ_j |w_j| · scale_j · (1/2 + 2^−17).
                    double bound = 0;
                    for (int j = 0; j < columns; j++) bound += Math.Abs(w[r][j]) * scales[b * columns + j] * (0.5 + Math.Pow(2, -17));
                    int i = b * rows + r;
                    Assert.True(Math.Abs(y[i] - exact.Y[i]) <= bound + 1e-5 * exact.Magnitude[i],
                        $"{path} output {i}: {y[i]}, exact {exact.Y[i]}, bound {bound}");
                }
        }
    }

    [Theory]
    [InlineData(KernelActivations.Int8PerBlock)]
    [InlineData(KernelActivations.Int8PerToken)]
    public void Int8_activations_differ_from_float_activations_by_their_rounding(KernelActivations activations)
    {
        // Guards against an integer path that silently multiplies float activations.
        const int rows = 16, columns = 256;
        using var q = KernelTestData.Weight(rows, columns, QuantizationPresets.W8A8, seed: 9);
        using var packed = PackedWeight.From(q);
        var x = KernelTestData.Activations(1, columns, seed: 10);
        var int8 = new float[rows];
        var float32 = new float[rows];
        QuantizedMatmul.Multiply(packed, x, 1, int8, activations);
        QuantizedMatmul.Multiply(packed, x, 1, float32);
        Assert.Contains(Enumerable.Range(0, rows), i => Math.Abs(int8[i] - float32[i]) > 1e-4 * Math.Abs(float32[i]));
    }

    [Theory]
    [InlineData(4, false)]
    [InlineData(8, false)]
    [InlineData(8, true)]
    public void Zero_rows_and_zero_blocks_give_the_products_of_the_other_blocks(int bits, bool symmetric)
    {
        // Row 0 is all zeros (every scale 0); row 1 has its second block zero and its first block nonzero.
        const int rows = 12, columns = 128;
        var args = new QuantizationArgs { NumBits = bits, Symmetric = symmetric, Strategy = QuantizationStrategy.Group, GroupSize = 64 };
        using var q = KernelTestData.Weight(rows, columns, args, seed: 30 + bits);
        using var packed = PackedWeight.From(q);
        var x = KernelTestData.Activations(2, columns, seed: 31);
        Array.Clear(x, 0, columns);
        Array.Clear(x, columns + 32, 32);
        var w = KernelTestData.Values(q);
        var (values, _) = BlockQuantized(x, 2, q.GIdx.data<int>().ToArray());
        foreach (var path in QuantizedMatmulTests.Paths)
        {
            var y = new float[2 * rows];
            QuantizedMatmul.Multiply(packed, x, 2, y, KernelActivations.Int8PerBlock, path);
            Assert.All(y.Take(rows), v => Assert.Equal(0f, v));
            KernelTestData.AssertClose(y, KernelTestData.Reference(values, 2, w), 1e-5);
        }
    }
}
