using Kit.Quantization;
using static TorchSharp.torch;

namespace Kit.Tests.Quantization;

public sealed class Fp8E4M3Tests
{
    // E4M3 from the OCP FP8 spec's bit layout, independently of Kit's decode table: bias 7, subnormals
    // M/8 · 2^−6, S.1111.111 is NaN, no infinities.
    static double Value(int bits)
    {
        int sign = bits >> 7, exponent = (bits >> 3) & 15, mantissa = bits & 7;
        if (exponent == 15 && mantissa == 7) return double.NaN;
        double magnitude = exponent == 0 ? mantissa / 8.0 * Math.Pow(2, -6) : (1 + mantissa / 8.0) * Math.Pow(2, exponent - 7);
        return sign == 1 ? -magnitude : magnitude;
    }

    // The finite non-negative values in increasing order: patterns 0x00 … 0x7E.
    static readonly double[] Positive = Enumerable.Range(0, 0x7F).Select(Value).ToArray();

    // Nearest finite E4M3 pattern by trying all of them; ties go to the even mantissa; the sign is x's.
    // Beyond 448 the nearest finite value is 448, but 3e38 − 448 rounds back to 3e38, so clamp first.
    static int NearestBits(double x)
    {
        double magnitude = Math.Min(Math.Abs(x), 448);
        int best = 0;
        for (int bits = 1; bits < Positive.Length; bits++)
        {
            double d = Math.Abs(magnitude - Positive[bits]), bestD = Math.Abs(magnitude - Positive[best]);
            if (d < bestD || (d == bestD && (bits & 1) == 0 && (best & 1) == 1)) best = bits;
        }
        return double.IsNegative(x) ? best | 0x80 : best;
    }

    static float[] Sweep()
    {
        var values = new List<double>();
        for (int k = 0; k < Positive.Length; k++)
        {
            values.Add(Positive[k]);
            if (k + 1 < Positive.Length)
            {
                double mid = (Positive[k] + Positive[k + 1]) / 2, gap = Positive[k + 1] - Positive[k];
                values.AddRange(new[] { mid, mid - gap * 1e-3, mid + gap * 1e-3, Positive[k] + gap / 4, Positive[k] + 3 * gap / 4 });
            }
        }
        values.AddRange(new[] { 449.0, 463.9, 464, 464.1, 480, 500, 1e4, 3e38, 1e-3 / 1024, 1.0 / 2048, 1.0 / 1024, 3.0 / 2048, 1e-30 });
        var random = new Random(5);
        for (int i = 0; i < 4000; i++)
            values.Add(Math.Pow(2, random.NextDouble() * 24 - 13));
        return values.Concat(values.Select(v => -v)).Select(v => (float)v).Append(0f).Append(-0f).ToArray();
    }

    [Fact]
    public void Rounding_equals_the_brute_force_nearest_e4m3_value()
    {
        using var scope = NewDisposeScope();
        var x = Sweep();
        var rounded = Fp8E4M3.Round(tensor(x)).data<float>().ToArray();
        for (int i = 0; i < x.Length; i++)
            Assert.True(Value(NearestBits(x[i])) == rounded[i], $"{x[i]:R} rounded to {rounded[i]:R}, nearest is {Value(NearestBits(x[i])):R}");
    }

    [Fact]
    public void Encoding_equals_the_brute_force_nearest_bit_pattern()
    {
        using var scope = NewDisposeScope();
        var x = Sweep();
        var bits = Fp8E4M3.Encode(tensor(x));
        Assert.Equal(ScalarType.Byte, bits.dtype);
        var actual = bits.data<byte>().ToArray();
        for (int i = 0; i < x.Length; i++)
            Assert.True(NearestBits(x[i]) == actual[i], $"{x[i]:R} encoded as 0x{actual[i]:X2}, expected 0x{NearestBits(x[i]):X2}");
    }

    [Fact]
    public void Every_finite_bit_pattern_decodes_and_encodes_back()
    {
        using var scope = NewDisposeScope();
        var patterns = Enumerable.Range(0, 256).Where(b => (b & 0x7F) != 0x7F).Select(b => (byte)b).ToArray();
        Assert.Equal(254, patterns.Length);
        var decoded = Fp8E4M3.Decode(tensor(patterns));
        var values = decoded.data<float>().ToArray();
        for (int i = 0; i < patterns.Length; i++)
            Assert.Equal(Value(patterns[i]), values[i]);
        Assert.Equal(patterns, Fp8E4M3.Encode(decoded).data<byte>().ToArray());
        Assert.Equal(patterns, Fp8E4M3.Encode(decoded.to_type(ScalarType.Float64)).data<byte>().ToArray());
    }

    [Fact]
    public void Format_landmarks_are_exact()
    {
        using var scope = NewDisposeScope();
        var x = tensor(new float[] { 448, 1000, -1e9f, 1f / 512, 1f / 1024, 1.5f / 512, 1f / 64, 17, float.NaN });
        // 448 is the top; larger values saturate; 2^−9 is the least subnormal and 2^−10 ties to 0; 1.5·2^−9 ties up
        // to the even 2·2^−9; 2^−6 is the least normal; 17 ties between 16 (m = 0) and 18 (m = 1) → 16.
        var rounded = Fp8E4M3.Round(x).data<float>().ToArray();
        Assert.Equal(new[] { 448f, 448, -448, 1f / 512, 0, 2f / 512, 1f / 64, 16 }, rounded[..8]);
        Assert.True(float.IsNaN(rounded[8]));
        Assert.Equal(new byte[] { 0x7E, 0x7E, 0xFE, 0x01, 0x00, 0x02, 0x08, 0x58, 0x7F }, Fp8E4M3.Encode(x).data<byte>().ToArray());
    }

    [Fact]
    public void Rounding_keeps_float64()
    {
        using var scope = NewDisposeScope();
        var r = Fp8E4M3.Round(tensor(new double[] { 0.1, -300 }));
        Assert.Equal(ScalarType.Float64, r.dtype);
        // 0.1 = 1.6 · 2^−4 → mantissa 1.625; 300 lies in [256, 512) with step 32 → 288.
        Assert.Equal(new[] { 0.1015625, -288 }, r.data<double>().ToArray());
    }

    [Fact]
    public void Fp8_channel_quantization_matches_hand_computation()
    {
        using var scope = NewDisposeScope();
        var w = tensor(new float[] { 0.3f, -1.7f, 10 }).reshape(1, 3);
        using var q = Rtn.Quantize(w, QuantizationPresets.Fp8Dynamic);
        // scale = 10 / 448; x / scale = 13.44 → 13 (step 1 in [8, 16)), −76.16 → −80 (step 8 in [64, 128)), 448.
        Assert.Equal(10.0 / 448, q.Scale.item<float>(), 8);
        Assert.Equal(0, q.ZeroPoint.item<sbyte>());
        // 13 = 1.625 · 2^3 → 0.1010.101; −80 = −1.25 · 2^6 → 1.1101.010; 448 = 1.75 · 2^8 → 0.1111.110.
        Assert.Equal(new byte[] { 0x55, 0xEA, 0x7E }, q.Codes.data<byte>().ToArray());
        QuantizerData.AssertClose(new[] { 13 * 10.0 / 448, -80 * 10.0 / 448, 10 }, q.Dequantize().data<float>().ToArray(), 1e-6);
        var p = Quantizer.Fit(w, QuantizationPresets.Fp8Dynamic);
        Assert.Equal(new float[] { 13, -80, 448 }, Quantizer.Quantize(w, p, QuantizationPresets.Fp8Dynamic).data<float>().ToArray());
    }

    [Fact]
    public void Fp8_per_tensor_scale_is_the_absolute_maximum_over_448()
    {
        using var scope = NewDisposeScope();
        var w = tensor(new float[] { 1, -7, 3, 2, 0.5f, -0.25f }).reshape(2, 3);
        var p = Quantizer.Fit(w, QuantizationPresets.Fp8);
        Assert.Equal(new long[] { 1, 1 }, p.Scale.shape);
        Assert.Equal(7.0 / 448, p.Scale.item<float>(), 8);
        Assert.Equal(0, p.ZeroPoint.item<float>());
    }
}
