using Kit.Models.Safetensors;
using static TorchSharp.torch;
using Kit.Runtime;

namespace Kit.Quantization;

/// <summary>
/// FP8 E4M3 ("e4m3fn", PyTorch's <c>float8_e4m3fn</c>) with tensor ops, since TorchSharp has no float8
/// dtype: 1 sign, 4 exponent (bias 7) and 3 mantissa bits; normals 2^−6 … 448, subnormals k·2^−9, no
/// infinities, NaN only at S.1111.111.
/// </summary>
public static class Fp8E4M3
{
    /// <summary>The largest finite value, 1.75 · 2^8.</summary>
    public const float Max = 448f;
    /// <summary>The smallest normal value, 2^−6; below it values are multiples of 2^−9.</summary>
    public const float MinNormal = 1f / 64;

    /// <summary>
    /// The nearest E4M3 value of every element (ties to even mantissa, saturating at ±448 as a saturating
    /// cast does), in float32 (float64 for float64 input).
    /// </summary>
    public static Tensor Round(Tensor x)
    {
        using var scope = NewDisposeScope();
        var v = x.dtype == ScalarType.Float64 ? x : x.to_type(ScalarType.Float32);
        var magnitude = v.abs().clamp_max(HeldScalars.Of(Max));
        // Within a binade [2^e, 2^(e+1)) the 3 mantissa bits space values 2^(e−3) apart; subnormals share
        // the spacing of the lowest binade, and 448 lies in the top one (e = 8). Power-of-two steps make
        // the division and multiplication exact, and round() breaks ties to even as the format does.
        var step = exp2(Exponent(magnitude).Minus(3));
        var rounded = (magnitude / step).round() * step;
        // copysign keeps the sign of values that round to zero, as a float cast does (−0 is 0x80).
        return rounded.copysign(v).MoveToOuterDisposeScope();
    }

    /// <summary>The bit pattern (uint8) of the nearest E4M3 value of every element; NaN gives 0x7F.</summary>
    public static Tensor Encode(Tensor x)
    {
        using var scope = NewDisposeScope();
        var v = Round(x);
        var magnitude = v.abs();
        var exponent = Exponent(magnitude);
        var normal = magnitude.ge(HeldScalars.Of(MinNormal));
        // Normals store 1.mmm with a biased exponent; subnormals 0.mmm · 2^−6 with exponent field 0.
        var mantissa = where(normal, (magnitude / exp2(exponent.Minus(3))).Minus(8), magnitude.Times(512));
        var exponentField = where(normal, exponent.Plus(7), zeros_like(exponent));
        var bits = v.signbit().to_type(v.dtype).Times(128).Plus(exponentField.Times(8)).Plus(mantissa);
        bits = where(v.isnan(), full_like(bits, HeldScalars.Of(0x7F)), bits);
        return bits.round().to_type(ScalarType.Int32).to_type(ScalarType.Byte).MoveToOuterDisposeScope();
    }

    /// <summary>The values of E4M3 bit patterns (uint8 or any integer dtype holding 0–255), in <paramref name="dtype"/>.</summary>
    public static Tensor Decode(Tensor bits, ScalarType dtype = ScalarType.Float32)
    {
        using var scope = NewDisposeScope();
        var table = tensor(Float8E4M3.Values, device: bits.device);
        var index = bits.to_type(ScalarType.Int64).flatten();
        return table.index_select(0, index).reshape(bits.shape).to_type(dtype).MoveToOuterDisposeScope();
    }

    // floor(log2 |x|) clamped to the normal exponents [−6, 8]; frexp is exact where log2 may round up
    // just below a power of two. Zero gets −6 like the subnormals.
    static Tensor Exponent(Tensor magnitude)
    {
        var (_, exponent) = frexp(magnitude);
        return exponent.to_type(magnitude.dtype).sub_(HeldScalars.Of(1)).clamp_(HeldScalars.Of(-6), HeldScalars.Of(8));
    }
}
