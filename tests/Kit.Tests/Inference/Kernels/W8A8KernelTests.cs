using Kit.Inference.Kernels;
using Kit.Quantization;

namespace Kit.Tests.Inference.Kernels;

public sealed class W8A8KernelTests
{
    /// <summary>
    /// The W8A8 definition written out: per-token scale absmax / 127 and round-half-even codes in float32 (as
    /// the activation grid is defined), exact integer dot products per group, the rest in float64.
    /// </summary>
    static (double[] Y, double[] Magnitude) Reference(float[] x, int batch, QuantizedWeight w)
    {
        int rows = (int)w.Codes.shape[0], columns = (int)w.Codes.shape[1];
        var codes = w.Codes.data<sbyte>().ToArray();
        var scale = w.Scale.data<float>().ToArray();
        var zero = w.ZeroPoint.data<sbyte>().ToArray();
        var gIdx = w.GIdx.data<int>().ToArray();
        int groups = (int)w.Scale.shape[1];
        var y = new double[batch * rows];
        var magnitude = new double[batch * rows];
        for (int b = 0; b < batch; b++)
        {
            var row = x.AsSpan(b * columns, columns);
            float absMax = 0;
            foreach (var v in row) absMax = Math.Max(absMax, Math.Abs(v));
            float xScale = absMax / 127f;
            var qx = new int[columns];
            for (int j = 0; j < columns; j++) qx[j] = xScale == 0 ? 0 : (int)Math.Clamp(Math.Round(row[j] / xScale, MidpointRounding.ToEven), -127, 127);
            for (int r = 0; r < rows; r++)
            {
                var dots = new long[groups];
                for (int j = 0; j < columns; j++) dots[gIdx[j]] += (long)(codes[r * columns + j] - zero[r * groups + gIdx[j]]) * qx[j];
                for (int g = 0; g < groups; g++)
                    y[b * rows + r] += (double)xScale * scale[r * groups + g] * dots[g];
                for (int j = 0; j < columns; j++)
                    magnitude[b * rows + r] += Math.Abs((double)xScale * qx[j] * (codes[r * columns + j] - zero[r * groups + gIdx[j]]) * scale[r * groups + gIdx[j]]);
            }
        }
        return (y, magnitude);
    }

    public static TheoryData<bool, QuantizationStrategy, int?, int, int> Cases() => new()
    {
        // symmetric, strategy, group size, columns, batch
        { true, QuantizationStrategy.Channel, null, 256, 1 },
        { true, QuantizationStrategy.Channel, null, 333, 3 },
        { true, QuantizationStrategy.Channel, null, 512, 16 },
        { false, QuantizationStrategy.Channel, null, 200, 5 },
        { true, QuantizationStrategy.Group, 128, 384, 2 },
        { false, QuantizationStrategy.Group, 32, 130, 16 },
        // The tiled GEMM (batch ≥ QuantizedMatmul.GemmRows): columns a multiple of 32 but not of 256, odd ones padded,
        // batches that leave 1, 2 and 3 activation rows in the last register tile and cross activation blocks.
        { true, QuantizationStrategy.Channel, null, 352, 8 },
        { true, QuantizationStrategy.Channel, null, 333, 130 },
        { false, QuantizationStrategy.Channel, null, 96, 131 },
        { true, QuantizationStrategy.Channel, null, 160, 513 },
        { false, QuantizationStrategy.Group, 64, 200, 67 },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void W8a8_kernel_reproduces_exact_int32_accumulation(bool symmetric, QuantizationStrategy strategy, int? groupSize, int columns, int batch)
    {
        // 29 rows leave two weight rows in the last tile of three (VNNI) and one in the last of two (AVX2).
        const int rows = 29;
        var args = new QuantizationArgs { NumBits = 8, Symmetric = symmetric, Strategy = strategy, GroupSize = groupSize };
        using var q = KernelTestData.Weight(rows, columns, args, seed: columns + batch);
        using var packed = PackedWeight.From(q);
        var x = KernelTestData.Activations(batch, columns, seed: 5 * batch);
        var reference = Reference(x, batch, q);
        AssertEveryPathMatches(packed, x, batch, rows, reference);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(28)]
    public void Gemm_handles_weights_of_any_row_count_and_extreme_codes(int rows)
    {
        // Codes at −128 and 127 with activations at ±127 are the largest products: vpmaddubsw must not saturate and
        // the +128 offset of the VNNI path must come back out exactly.
        const int columns = 256, batch = 9;
        var args = new QuantizationArgs { NumBits = 8, Symmetric = true, Strategy = QuantizationStrategy.Channel };
        using var q = KernelTestData.Weight(rows, columns, args, seed: rows);
        using var flat = q.Codes.view(-1);
        var codes = flat.data<sbyte>();
        for (int i = 0; i < codes.Count; i++) codes[i] = i % 3 == 0 ? (sbyte)-128 : i % 3 == 1 ? (sbyte)127 : codes[i];
        using var packed = PackedWeight.From(q);
        var x = KernelTestData.Activations(batch, columns, seed: 3);
        for (int i = 0; i < x.Length; i += 2) x[i] = i % 4 == 0 ? 9f : -9f;
        var reference = Reference(x, batch, q);
        AssertEveryPathMatches(packed, x, batch, rows, reference);
    }

    [Fact]
    public void Gemm_crosses_weight_blocks_and_activation_blocks()
    {
        // 4096 columns make 48 weight rows per 192 KiB block: 100 rows take three blocks, 70 rows of x two activation blocks.
        const int rows = 100, columns = 4096, batch = 70;
        using var q = KernelTestData.Weight(rows, columns, QuantizationPresets.W8A8, seed: 100);
        using var packed = PackedWeight.From(q);
        var x = KernelTestData.Activations(batch, columns, seed: 101);
        var reference = Reference(x, batch, q);
        AssertEveryPathMatches(packed, x, batch, rows, reference);
    }

    [Fact]
    public void A_zero_activation_row_gives_zero_output()
    {
        using var q = KernelTestData.Weight(8, 64, QuantizationPresets.W8A8, seed: 2);
        using var packed = PackedWeight.From(q);
        var y = new float[8];
        QuantizedMatmul.Multiply(packed, new float[64], 1, y, KernelActivations.Int8PerToken);
        Assert.All(y, v => Assert.Equal(0f, v));
    }

    // The int8 × int8 product on every instruction set this CPU runs, against the exact reference.
    static void AssertEveryPathMatches(PackedWeight packed, float[] x, int batch, int rows, (double[] Y, double[] Magnitude) reference)
    {
        foreach (var path in QuantizedMatmulTests.Paths)
        {
            var y = new float[batch * rows];
            QuantizedMatmul.Multiply(packed, x, batch, y, KernelActivations.Int8PerToken, path);
            KernelTestData.AssertClose(y, reference, 1e-5);
        }
    }
}
