using Kit.Formats.Gguf;

namespace Kit.Tests.Formats.Gguf;

/// <summary>ggml's Q8_0, Q4_0 and Q4_1 block encodings against bytes worked out by hand from ggml-quants.c.</summary>
public sealed class GgmlQuantsTests
{
    [Fact]
    public void Q4_0_block_of_a_ramp_matches_hand_computed_bytes()
    {
        // x_j = j − 16: the largest magnitude is x_0 = −16, so d = −16/−8 = 2 (fp16 0x4000), 1/d = 0.5 and
        // nibble = min(15, trunc(x/2 + 8.5)): elements 0–15 give (j+1)/2, elements 16–31 give min(15, 8 + (j+1)/2).
        var x = Enumerable.Range(0, 32).Select(j => (float)(j - 16)).ToArray();
        byte[] expected =
        [
            0x00, 0x40,
            0x80, 0x91, 0x91, 0xA2, 0xA2, 0xB3, 0xB3, 0xC4, 0xC4, 0xD5, 0xD5, 0xE6, 0xE6, 0xF7, 0xF7, 0xF8,
        ];
        Assert.Equal(expected, GgmlQuants.Encode(GgmlType.Q4_0, x));
    }

    [Fact]
    public void Q4_0_scale_is_negative_when_the_largest_value_is_positive()
    {
        // max = +8 gives d = 8/−8 = −1 (fp16 0xBC00); x = 8 → trunc(−8 + 8.5) = 0, x = 0 → 8, x = −3 → trunc(11.5) = 11.
        var x = new float[32];
        x[0] = 8;
        x[31] = -3;
        var bytes = GgmlQuants.Encode(GgmlType.Q4_0, x);
        var expected = new byte[18];
        expected[0] = 0x00; expected[1] = 0xBC;
        for (int j = 0; j < 16; j++) expected[2 + j] = 0x88;
        expected[2] = 0x80;          // element 0 (nibble 0) low, element 16 (nibble 8) high
        expected[17] = 0xB8;         // element 15 (nibble 8) low, element 31 (nibble 11) high
        Assert.Equal(expected, bytes);
        var back = new float[32];
        GgmlQuants.Dequantize(GgmlType.Q4_0, bytes, back);
        Assert.Equal(x, back);
    }

    [Fact]
    public void Q4_1_block_stores_min_and_range_over_15_with_q4_0s_nibble_order()
    {
        // x_j = j − 3 and x_(j+16) = 12 − j (j < 16): min = −3, max = 12, so d = 15/15 = 1 (fp16 0x3C00), m = −3
        // (fp16 0xC200) and nibble = trunc(x − min + 0.5): element j gets j (low nibble), element j + 16 gets 15 − j (high).
        var x = Enumerable.Range(0, 32).Select(j => j < 16 ? j - 3f : 12f - (j - 16)).ToArray();
        var expected = new byte[20];
        (expected[0], expected[1], expected[2], expected[3]) = (0x00, 0x3C, 0x00, 0xC2);
        for (int j = 0; j < 16; j++) expected[4 + j] = (byte)(j | ((15 - j) << 4));
        var bytes = GgmlQuants.Encode(GgmlType.Q4_1, x);
        Assert.Equal(expected, bytes);
        var back = new float[32];
        GgmlQuants.Dequantize(GgmlType.Q4_1, bytes, back);
        Assert.Equal(x, back);
        Assert.Equal(x, SpecQ4_1Decoder.Decode(bytes));
    }

    [Fact]
    public void Q4_1_reference_quantizer_stays_within_half_a_step()
    {
        var random = new Random(8);
        var x = Enumerable.Range(0, 32 * 64).Select(_ => (float)(random.NextDouble() * 3 - 1) * (random.Next(4) + 1)).ToArray();
        var q = new float[x.Length];
        GgmlQuants.Dequantize(GgmlType.Q4_1, GgmlQuants.Encode(GgmlType.Q4_1, x), q);
        for (int b = 0; b < x.Length / 32; b++)
        {
            var block = x.Skip(32 * b).Take(32).ToArray();
            float min = block.Min(), d = (block.Max() - min) / 15;
            // Half a step, plus fp16 rounding of d (at most 15·d·2⁻¹¹ over the nibbles) and of m = min (|min|·2⁻¹¹).
            for (int j = 0; j < 32; j++)
                Assert.True(Math.Abs(q[32 * b + j] - block[j]) <= d * (0.5 + 15.0 / 2048) + Math.Abs(min) / 2048 + 1e-6, $"block {b} element {j}");
        }
    }

    [Fact]
    public void Q8_0_rounds_halves_away_from_zero_like_roundf()
    {
        // amax = 127 gives d = 1 (fp16 0x3C00) and qs = roundf(x).
        var x = new float[32];
        (x[0], x[1], x[2], x[3], x[4], x[5], x[6]) = (127, -127, 0.5f, -0.5f, 1.5f, -2.5f, 2.49f);
        var bytes = GgmlQuants.Encode(GgmlType.Q8_0, x);
        var expected = new byte[34];
        (expected[0], expected[1]) = (0x00, 0x3C);
        (expected[2], expected[3], expected[4], expected[5], expected[6], expected[7], expected[8]) = (127, 0x81, 1, 0xFF, 2, 0xFD, 2);
        Assert.Equal(expected, bytes);
    }

    [Fact]
    public void Q8_0_stores_the_scale_rounded_to_fp16()
    {
        // amax = 1: d = 1/127, whose fp16 is 0x2008 (0.00787353515625); qs = round(x·127) with the unrounded d.
        var x = new float[32];
        (x[0], x[1]) = (1.0f, -0.3f);
        var bytes = GgmlQuants.Encode(GgmlType.Q8_0, x);
        Assert.Equal(new byte[] { 0x08, 0x20, 127, 0xDA }, bytes[..4]);   // −38 = 0xDA
        Assert.All(bytes[4..], b => Assert.Equal(0, b));
        var back = new float[32];
        GgmlQuants.Dequantize(GgmlType.Q8_0, bytes, back);
        Assert.Equal(127 * 0.00787353515625f, back[0]);
        Assert.Equal(-38 * 0.00787353515625f, back[1]);
    }

    [Fact]
    public void Reference_quantizers_stay_within_their_step_sizes()
    {
        var random = new Random(7);
        var x = Enumerable.Range(0, 32 * 64).Select(_ => (float)(random.NextDouble() * 2 - 1) * (random.Next(4) + 1)).ToArray();
        var q8 = new float[x.Length];
        var q4 = new float[x.Length];
        GgmlQuants.Dequantize(GgmlType.Q8_0, GgmlQuants.Encode(GgmlType.Q8_0, x), q8);
        GgmlQuants.Dequantize(GgmlType.Q4_0, GgmlQuants.Encode(GgmlType.Q4_0, x), q4);
        double sum4 = 0, sumD4 = 0;
        for (int b = 0; b < x.Length / 32; b++)
        {
            float amax = x.Skip(32 * b).Take(32).Max(MathF.Abs);
            for (int j = 32 * b; j < 32 * b + 32; j++)
            {
                // Q8_0: half a step d = amax/127, plus up to 127·|fp16(d) − d| ≤ 127·d·2⁻¹¹ from the stored scale.
                Assert.True(Math.Abs(q8[j] - x[j]) <= amax / 127 * (0.5 + 127.0 / 2048) + 1e-7, $"Q8_0 element {j}");
                // Q4_0: the side opposite the largest value is clamped at 7·d, so one whole step d = amax/8 is the bound.
                Assert.True(Math.Abs(q4[j] - x[j]) <= amax / 8 * (1 + 1.0 / 1024), $"Q4_0 element {j}");
                sum4 += Math.Abs(q4[j] - x[j]);
                sumD4 += amax / 8;
            }
        }
        // Rounding to the nearest step averages a quarter step for uniform data; clamping adds little.
        Assert.InRange(sum4 / sumD4, 0.2, 0.3);
    }

    [Fact]
    public void F16_and_f32_encodings_are_little_endian_ieee()
    {
        Assert.Equal(new byte[] { 0x00, 0x3C, 0x00, 0xC0 }, GgmlQuants.Encode(GgmlType.F16, [1f, -2f]));
        Assert.Equal(new byte[] { 0x00, 0x00, 0x80, 0x3F }, GgmlQuants.Encode(GgmlType.F32, [1f]));
    }

    [Fact]
    public void Blocks_need_whole_multiples_of_32()
    {
        var e = Assert.Throws<ArgumentException>(() => GgmlQuants.Encode(GgmlType.Q4_0, new float[40]));
        Assert.Contains("40", e.Message);
    }
}
