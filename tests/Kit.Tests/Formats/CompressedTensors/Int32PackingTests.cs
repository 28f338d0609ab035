using Kit.Formats.CompressedTensors;
using static TorchSharp.torch;

namespace Kit.Tests.Formats.CompressedTensors;

public sealed class Int32PackingTests
{
    static int[] Words(Tensor packed) => packed.contiguous().data<int>().ToArray();

    [Fact]
    public void Int4_codes_minus8_to_7_pack_into_0x76543210_and_0xFEDCBA98()
    {
        // q + 8 runs 0..15; nibble i of word k holds element 8k + i, least significant first.
        using var codes = arange(-8, 8, ScalarType.Int8).reshape(1, 16);
        using var packed = Int32Packing.PackRows(codes, 4);
        Assert.Equal(ScalarType.Int32, packed.dtype);
        Assert.Equal(new long[] { 1, 2 }, packed.shape);
        Assert.Equal(new[] { 0x76543210, unchecked((int)0xFEDCBA98) }, Words(packed));
    }

    [Fact]
    public void Int8_codes_pack_four_bytes_per_word_lowest_first()
    {
        // q + 128: -128 → 0x00, -1 → 0x7F, 0 → 0x80, 127 → 0xFF.
        using var codes = tensor(new sbyte[] { -128, -1, 0, 127, 5 }, 1, 5);
        using var packed = Int32Packing.PackRows(codes, 8);
        Assert.Equal(new long[] { 1, 2 }, packed.shape);
        Assert.Equal(new[] { unchecked((int)0xFF807F00), 0x00000085 }, Words(packed));
    }

    [Fact]
    public void Odd_in_features_pad_the_last_word_with_zero_bits()
    {
        // 9 int4 zeros are stored as 8 each; the tenth to sixteenth nibbles are padding (0, not 8).
        var values = new sbyte[18];
        values[17] = -3;
        using var codes = tensor(values, 2, 9);
        using var packed = Int32Packing.PackRows(codes, 4);
        Assert.Equal(new long[] { 2, 2 }, packed.shape);
        Assert.Equal(new[] { unchecked((int)0x88888888), 0x8, unchecked((int)0x88888888), 0x5 }, Words(packed));
    }

    [Fact]
    public void Int2_codes_pack_sixteen_per_word()
    {
        using var codes = tensor(new sbyte[] { -2, -1, 0, 1 }, 1, 4);
        using var packed = Int32Packing.PackRows(codes, 2);
        Assert.Equal(new[] { 0b11_10_01_00 }, Words(packed));
    }

    [Fact]
    public void Zero_points_pack_along_the_output_dimension()
    {
        // 9 rows × 2 groups of int4 zero points: column g's rows 0..7 fill word [0, g], row 8 word [1, g].
        var zp = new sbyte[9 * 2];
        for (int r = 0; r < 9; r++)
        {
            zp[2 * r] = (sbyte)(r - 8);     // stored r: 0..8
            zp[2 * r + 1] = 7;              // stored 15
        }
        using var codes = tensor(zp, 9, 2);
        using var packed = Int32Packing.PackColumns(codes, 4);
        Assert.Equal(new long[] { 2, 2 }, packed.shape);
        Assert.Equal(new[] { 0x76543210, unchecked((int)0xFFFFFFFF), 0x8, 0xF }, Words(packed));
        using var back = Int32Packing.UnpackColumns(packed, 4, 9);
        Assert.Equal(zp, back.data<sbyte>().ToArray());
    }

    [Theory]
    [InlineData(1)] [InlineData(2)] [InlineData(4)] [InlineData(8)]
    public void Unpack_inverts_pack_for_every_code(int bits)
    {
        var rng = new Random(bits);
        int lo = -(1 << (bits - 1)), hi = (1 << (bits - 1)) - 1;
        var values = Enumerable.Range(0, 7 * 37).Select(_ => (sbyte)rng.Next(lo, hi + 1)).ToArray();
        using var codes = tensor(values, 7, 37);
        using var packed = Int32Packing.PackRows(codes, bits);
        Assert.Equal(new long[] { 7, (37 * bits + 31) / 32 }, packed.shape);
        using var back = Int32Packing.UnpackRows(packed, bits, 37);
        Assert.Equal(ScalarType.Int8, back.dtype);
        Assert.Equal(values, back.data<sbyte>().ToArray());
    }

    [Fact]
    public void Widths_that_straddle_words_are_refused()
    {
        using var codes = zeros(1, 4, ScalarType.Int8);
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => Int32Packing.PackRows(codes, 3));
        Assert.Contains("ambiguous", e.Message);
    }

    [Fact]
    public void Unpack_refuses_a_word_count_that_does_not_fit_the_columns()
    {
        using var packed = zeros(1, 2, ScalarType.Int32);
        var e = Assert.Throws<ArgumentException>(() => Int32Packing.UnpackRows(packed, 4, 17));
        Assert.Contains("need 3 words", e.Message);
    }

    [Fact]
    public void Weight_packed_equals_the_transposed_gptq_qweight_for_symmetric_int4()
    {
        // AutoGPTQ packs intweight[i, o] = q[o, i] + 8 along the input dimension:
        // qweight[r, o] = Σ_k intweight[8r + k, o] << 4k (int32 [in/8, out]). Built here with plain loops.
        const int outF = 3, inF = 16;
        var rng = new Random(7);
        var q = new sbyte[outF * inF];
        for (int i = 0; i < q.Length; i++) q[i] = (sbyte)rng.Next(-8, 8);
        var qweight = new int[inF / 8, outF];
        for (int r = 0; r < inF / 8; r++)
            for (int o = 0; o < outF; o++)
            {
                uint word = 0;
                for (int k = 0; k < 8; k++) word |= (uint)(q[o * inF + 8 * r + k] + 8) << (4 * k);
                qweight[r, o] = unchecked((int)word);
            }
        using var codes = tensor(q, outF, inF);
        using var packed = Int32Packing.PackRows(codes, 4);
        var words = Words(packed);
        for (int o = 0; o < outF; o++)
            for (int r = 0; r < inF / 8; r++)
                Assert.Equal(qweight[r, o], words[o * (inF / 8) + r]);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(4)]
    [InlineData(8)]
    public void Cpu_packing_equals_the_tensor_operations_in_both_directions(int bits)
    {
        // 37 columns leave a ragged last word for every width; the tensor path is what other devices run.
        manual_seed(bits);
        using var codes = randint(-(1 << (bits - 1)), 1 << (bits - 1), new long[] { 5, 37 }).to_type(ScalarType.Int8);
        using var packed = Int32Packing.PackRows(codes, bits);
        using var reference = Int32Packing.PackWithTensorOps(codes, bits);
        Assert.Equal(Words(reference), Words(packed));
        using var back = Int32Packing.UnpackRows(packed, bits, 37);
        using var referenceBack = Int32Packing.UnpackWithTensorOps(packed, bits, 37);
        Assert.True(referenceBack.equal(back).all().item<bool>());
        Assert.True(codes.equal(back).all().item<bool>());
    }
}
