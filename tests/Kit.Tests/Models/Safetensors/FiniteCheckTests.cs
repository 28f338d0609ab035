using Kit.Models.Safetensors;

namespace Kit.Tests.Models.Safetensors;

public sealed unsafe class FiniteCheckTests
{
    // Long enough for whole chunks of vectors and a scalar tail, so that every code path sees the bad value.
    const int Count = 5000;

    static bool Check<T>(T[] values, DType dtype) where T : unmanaged
    {
        fixed (T* p = values) return FiniteCheck.AllFinite((byte*)p, (long)values.Length * sizeof(T), dtype);
    }

    public static TheoryData<int> Positions() => new() { 0, 1, 2047, 4095, 4999 };

    [Theory]
    [MemberData(nameof(Positions))]
    public void Nan_and_infinity_are_found_at_any_position_in_every_float_width(int at)
    {
        var finite32 = Enumerable.Range(0, Count).Select(i => (i - 2500) * 1e30f).ToArray();
        Assert.True(Check(finite32, DType.F32));
        foreach (var bad in new[] { float.NaN, float.PositiveInfinity, float.NegativeInfinity })
        {
            var f32 = (float[])finite32.Clone();
            f32[at] = bad;
            Assert.False(Check(f32, DType.F32), $"float32 {bad} at {at}");
            var f64 = finite32.Select(v => (double)v).ToArray();
            f64[at] = bad;
            Assert.False(Check(f64, DType.F64), $"float64 {bad} at {at}");
            var f16 = finite32.Select(v => BitConverter.HalfToUInt16Bits((Half)(v / 1e30f))).ToArray();
            f16[at] = BitConverter.HalfToUInt16Bits((Half)bad);
            Assert.False(Check(f16, DType.F16), $"float16 {bad} at {at}");
            // bfloat16 is the top half of a float32.
            var bf16 = finite32.Select(v => (ushort)(BitConverter.SingleToUInt32Bits(v) >> 16)).ToArray();
            bf16[at] = (ushort)(BitConverter.SingleToUInt32Bits(bad) >> 16);
            Assert.False(Check(bf16, DType.BF16), $"bfloat16 {bad} at {at}");
        }
        var e4m3 = new byte[Count];
        e4m3[at] = 0xFF;
        Assert.False(Check(e4m3, DType.F8_E4M3), $"E4M3 NaN at {at}");
    }

    [Fact]
    public void Extremes_that_are_finite_pass()
    {
        Assert.True(Check(new[] { float.MaxValue, float.MinValue, float.Epsilon, -0f, 0f }, DType.F32));
        Assert.True(Check(new[] { double.MaxValue, double.Epsilon, -0.0 }, DType.F64));
        Assert.True(Check(new[] { BitConverter.HalfToUInt16Bits(Half.MaxValue), BitConverter.HalfToUInt16Bits(Half.Epsilon) }, DType.F16));
        Assert.True(Check(new ushort[] { 0x7F7F, 0xFF7F, 0x0001 }, DType.BF16)); // largest bfloat16s and a subnormal
        Assert.True(Check(new byte[] { 0x7E, 0xFE, 0x00, 0x80 }, DType.F8_E4M3)); // ±448 and ±0
        Assert.True(Check(new int[] { -1, int.MaxValue }, DType.I32)); // integers are never NaN
    }
}
