using Kit.Inference.Kernels;
using Kit.Quantization;

namespace Kit.Tests.Inference.Kernels;

public sealed class QuantizedMatmulTests
{
    /// <summary>Every instruction set this CPU runs, scalar first.</summary>
    internal static KernelPath[] Paths { get; } = Enum.GetValues<KernelPath>().Where(p => p <= KernelPaths.Best).ToArray();

    static QuantizationArgs Grid(int bits, bool symmetric, QuantizationStrategy strategy, int? groupSize = null) =>
        new() { NumBits = bits, Symmetric = symmetric, Strategy = strategy, GroupSize = groupSize };

    public static TheoryData<int, bool, QuantizationStrategy, int?, int, int> WeightOnlyCases() => new()
    {
        // bits, symmetric, strategy, group size, columns, batch
        { 4, true, QuantizationStrategy.Group, 32, 256, 1 },
        { 4, true, QuantizationStrategy.Group, 128, 384, 3 },
        { 4, false, QuantizationStrategy.Group, 32, 256, 16 },
        { 4, false, QuantizationStrategy.Group, 128, 256, 1 },
        { 4, true, QuantizationStrategy.Channel, null, 100, 3 },
        { 4, false, QuantizationStrategy.Channel, null, 257, 16 },
        { 4, false, QuantizationStrategy.Tensor, null, 96, 5 },
        // a ragged last group (200 = 6 · 32 + 8) and a group size that is not a multiple of 32
        { 4, false, QuantizationStrategy.Group, 32, 200, 7 },
        { 4, true, QuantizationStrategy.Group, 48, 150, 2 },
        { 3, true, QuantizationStrategy.Group, 32, 128, 4 },
        { 8, true, QuantizationStrategy.Group, 128, 256, 1 },
        { 8, true, QuantizationStrategy.Group, 32, 160, 3 },
        { 8, false, QuantizationStrategy.Channel, null, 101, 16 },
        { 8, false, QuantizationStrategy.Group, 128, 300, 6 },
    };

    [Theory]
    [MemberData(nameof(WeightOnlyCases))]
    public void Weight_only_kernel_matches_float64_product_of_dequantized_weight(int bits, bool symmetric, QuantizationStrategy strategy, int? groupSize, int columns, int batch)
    {
        const int rows = 37;
        var args = Grid(bits, symmetric, strategy, groupSize);
        using var q = KernelTestData.Weight(rows, columns, args, seed: bits * 100 + columns);
        using var packed = PackedWeight.From(q);
        var x = KernelTestData.Activations(batch, columns, seed: batch);
        var reference = KernelTestData.Reference(x, batch, KernelTestData.Values(q));
        foreach (var path in Paths)
        {
            var y = new float[batch * rows];
            QuantizedMatmul.Multiply(packed, x, batch, y, KernelActivations.Float32, path);
            KernelTestData.AssertClose(y, reference, 1e-5);
        }
    }

    [Theory]
    [InlineData(4, 32, 1)]
    [InlineData(4, 128, 16)]
    [InlineData(8, 64, 3)]
    public void Act_order_groups_are_gathered_and_match_the_reference(int bits, int groupSize, int batch)
    {
        const int rows = 19, columns = 320;
        var args = Grid(bits, symmetric: false, QuantizationStrategy.Group, groupSize);
        using var q = KernelTestData.Weight(rows, columns, args, seed: 7 + bits, shuffledGroups: true);
        using var packed = PackedWeight.From(q);
        var x = KernelTestData.Activations(batch, columns, seed: 11);
        var y = new float[batch * rows];
        QuantizedMatmul.Multiply(packed, x, batch, y);
        KernelTestData.AssertClose(y, KernelTestData.Reference(x, batch, KernelTestData.Values(q)), 1e-5);
    }

    [Fact]
    public void Vector_and_scalar_paths_agree_on_a_large_layer()
    {
        const int rows = 300, columns = 1024, batch = 16;
        using var q = KernelTestData.Weight(rows, columns, QuantizationPresets.W4A16Asym, seed: 3);
        using var packed = PackedWeight.From(q);
        var x = KernelTestData.Activations(batch, columns, seed: 4);
        var scalar = new float[batch * rows];
        QuantizedMatmul.Multiply(packed, x, batch, scalar, KernelActivations.Float32, KernelPath.Scalar);
        var reference = KernelTestData.Reference(x, batch, KernelTestData.Values(q));
        foreach (var path in Paths.Skip(1))
        {
            var vector = new float[batch * rows];
            QuantizedMatmul.Multiply(packed, x, batch, vector, KernelActivations.Float32, path);
            for (int i = 0; i < vector.Length; i++)
                Assert.True(Math.Abs(vector[i] - scalar[i]) <= 1e-5 * reference.Magnitude[i], $"{path} output {i}: {vector[i]}, scalar {scalar[i]}");
        }
    }

    // Continuous batching promises each sequence the tokens it gets alone: every tile size (8, 4, 3, 2, 1 rows) and
    // loop order must sum a row of x in the same order. 2048 columns take tiles of eight, 5632 of four.
    [Theory]
    [InlineData(4, 2048)]
    [InlineData(8, 2048)]
    [InlineData(4, 5632)]
    public void A_row_in_a_batch_gets_bit_for_bit_what_it_gets_alone(int bits, int columns)
    {
        const int rows = 40;
        var args = (bits == 4 ? QuantizationPresets.W4A16 : QuantizationPresets.W8A16) with { GroupSize = 128 };
        using var q = KernelTestData.Weight(rows, columns, args, seed: 5);
        using var packed = PackedWeight.From(q);
        foreach (int batch in new[] { 3, 8, 13, 21 })
        {
            var x = KernelTestData.Activations(batch, columns, seed: batch);
            var together = new float[batch * rows];
            QuantizedMatmul.Multiply(packed, x, batch, together, KernelActivations.Int8PerBlock);
            for (int b = 0; b < batch; b++)
            {
                var alone = new float[rows];
                QuantizedMatmul.Multiply(packed, x.AsSpan(b * columns, columns), 1, alone, KernelActivations.Int8PerBlock);
                Assert.Equal(alone, together.AsSpan(b * rows, rows).ToArray());
            }
        }
    }

    [Fact]
    public void Multiply_rejects_wrong_lengths_and_int8_activations_on_int4_weights()
    {
        using var q = KernelTestData.Weight(8, 64, QuantizationPresets.W4A16 with { GroupSize = 32 }, seed: 1);
        using var packed = PackedWeight.From(q);
        Assert.Throws<ArgumentException>(() => QuantizedMatmul.Multiply(packed, new float[63], 1, new float[8]));
        Assert.Throws<ArgumentException>(() => QuantizedMatmul.Multiply(packed, new float[64], 1, new float[7]));
        var error = Assert.Throws<ArgumentException>(() => QuantizedMatmul.Multiply(packed, new float[64], 1, new float[8], KernelActivations.Int8PerToken));
        Assert.Contains("PackedWeight.Format", error.Message);
    }

    [Fact]
    public void Packing_refuses_a_code_outside_the_grid_and_names_its_position()
    {
        var args = Grid(4, true, QuantizationStrategy.Group, 32);
        using var q = KernelTestData.Weight(3, 64, args, seed: 5);
        q.Codes[1, 37] = TorchSharp.torch.tensor((sbyte)8);   // int4 symmetric codes run from −8 to 7

        var e = Assert.Throws<ArgumentException>(() => PackedWeight.From(q));
        Assert.Contains("code 8 at [1, 37] lies outside the grid's range [-8, 7]", e.Message);
    }
}
