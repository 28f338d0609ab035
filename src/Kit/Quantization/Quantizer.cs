using static TorchSharp.torch;
using Kit.Runtime;

namespace Kit.Quantization;

/// <summary>Scale and zero point of a block of values: [rows, 1] per row, or [1, 1] for a whole tensor.</summary>
/// <param name="Scale">The step between codes.</param>
/// <param name="ZeroPoint">The code that stands for 0 (integer-valued; 0 when symmetric).</param>
public sealed record QuantizationParams(Tensor Scale, Tensor ZeroPoint);

/// <summary>
/// Fits grids and snaps values to them, following compressed-tensors: ranges include zero; symmetric
/// scale = max(|min|, |max|) / ((qmax − qmin) / 2); asymmetric scale = (max − min) / (qmax − qmin) and
/// zero point = round(qmin − min / scale); code = clamp(round(x / scale) + zp, qmin, qmax);
/// value = (code − zp) · scale. The same grid as the GPTQ reference, whose codes are these plus 2^(b−1).
/// FP8 grids (<see cref="QuantizationType.Float"/>) use scale = max(|min|, |max|) / 448 and code = the
/// E4M3 value nearest to x / scale. The <see cref="QuantizationObserver.Mse"/> observer then shrinks the
/// range per row while that lowers the rounding error. Scales are rounded to <see cref="QuantizationArgs.ScaleDType"/>
/// where they are made, and zero points computed from the rounded scale, so that every caller snaps to the grid the
/// checkpoint will hold.
/// </summary>
public static class Quantizer
{
    /// <summary>
    /// Fits one grid per row of <paramref name="w"/> [rows, cols] (channel and group strategies: the caller
    /// passes one group's columns) or one for the whole block (tensor strategy).
    /// </summary>
    public static QuantizationParams Fit(Tensor w, QuantizationArgs args)
    {
        using var scope = NewDisposeScope();
        var x = w.dtype == ScalarType.Float64 ? w : w.to_type(ScalarType.Float32);
        if (args.Strategy == QuantizationStrategy.Tensor)
            x = x.reshape(1, -1);
        var min = x.amin(new long[] { 1 }, keepdim: true).clamp_max(HeldScalars.Of(0));
        var max = x.amax(new long[] { 1 }, keepdim: true).clamp_min(HeldScalars.Of(0));
        var (scale, zero) = args.Observer == QuantizationObserver.Mse
            ? MseObserver.Search(x, min, max, args)
            : FromRange(min, max, args);
        return new QuantizationParams(scale.MoveToOuterDisposeScope(), zero.MoveToOuterDisposeScope());
    }

    /// <summary>
    /// One grid per row of each in-order group of <paramref name="perGroup"/> columns of <paramref name="w"/> [rows,
    /// cols], the last group possibly shorter: scale and zero point [rows, groups], each group's the grid
    /// <see cref="Fit"/> gives for its columns alone. Whole groups are fitted in one call, each group of each row
    /// viewed as a row of its own.
    /// </summary>
    public static QuantizationParams FitGroups(Tensor w, int perGroup, QuantizationArgs args)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(perGroup, 1);
        using var scope = NewDisposeScope();
        long rows = w.shape[0], columns = w.shape[1];
        int groups = (int)((columns + perGroup - 1) / perGroup);
        QuantizationParams grids;
        if (columns == (long)groups * perGroup)
        {
            var fit = Fit(w.contiguous().view(rows * groups, perGroup), args);
            grids = new QuantizationParams(fit.Scale.view(rows, groups), fit.ZeroPoint.view(rows, groups));
        }
        else
        {
            var fits = Enumerable.Range(0, groups).Select(g => Fit(w.narrow(1, (long)g * perGroup, Math.Min(perGroup, columns - (long)g * perGroup)), args)).ToList();
            grids = new QuantizationParams(cat(fits.Select(f => f.Scale).ToList(), 1), cat(fits.Select(f => f.ZeroPoint).ToList(), 1));
        }
        return new QuantizationParams(grids.Scale.MoveToOuterDisposeScope(), grids.ZeroPoint.MoveToOuterDisposeScope());
    }

    /// <summary>
    /// Scale and zero point for ranges [min, max] that already include zero (FP8: absmax / 448, zero point 0),
    /// the scale rounded to <see cref="QuantizationArgs.ScaleDType"/> and held in the ranges' dtype.
    /// </summary>
    public static (Tensor Scale, Tensor ZeroPoint) FromRange(Tensor min, Tensor max, QuantizationArgs args)
    {
        using var scope = NewDisposeScope();
        double levels = args.QMax - args.QMin;
        Tensor scale, zero;
        if (args.Symmetric)
        {
            scale = Stored(Safe(maximum(min.abs(), max).DividedBy(levels / 2)), args);
            zero = zeros_like(scale);
        }
        else
        {
            scale = Stored(Safe((max - min).DividedBy(levels)), args);
            zero = (min / scale).SubtractedFrom(args.QMin).round().clamp(HeldScalars.Of(args.QMin), HeldScalars.Of(args.QMax));
        }
        return (scale.MoveToOuterDisposeScope(), zero.MoveToOuterDisposeScope());
    }

    /// <summary>
    /// Codes for values on the grid, held in float32 (float64 for float64 input): integers for integer
    /// grids, E4M3 values for FP8 grids.
    /// </summary>
    public static Tensor Quantize(Tensor w, QuantizationParams p, QuantizationArgs args)
    {
        using var scope = NewDisposeScope();
        var x = w.dtype == ScalarType.Float64 ? w : w.to_type(ScalarType.Float32);
        // In place after the division: each step would otherwise be another copy of the whole weight.
        var codes = args.Type == QuantizationType.Float
            ? Fp8E4M3.Round(x / p.Scale)
            : (x / p.Scale).round_().PlusInPlace(p.ZeroPoint).clamp_(HeldScalars.Of(args.QMin), HeldScalars.Of(args.QMax));
        return codes.MoveToOuterDisposeScope();
    }

    /// <summary>Values of <paramref name="codes"/>: (code − zero point) · scale.</summary>
    public static Tensor Dequantize(Tensor codes, QuantizationParams p)
    {
        using var scope = NewDisposeScope();
        return ((codes - p.ZeroPoint) * p.Scale).MoveToOuterDisposeScope();
    }

    /// <summary>Snaps <paramref name="w"/> to its grid and returns the values, in <paramref name="w"/>'s dtype.</summary>
    public static Tensor FakeQuantize(Tensor w, QuantizationParams p, QuantizationArgs args)
    {
        using var scope = NewDisposeScope();
        return Dequantize(Quantize(w, p, args), p).to_type(w.dtype).MoveToOuterDisposeScope();
    }

    // A zero scale (an all-zero row) would divide by zero; any positive scale represents zeros exactly.
    static Tensor Safe(Tensor scale) => scale.clamp_min(HeldScalars.Of(scale.dtype == ScalarType.Float64 ? 1e-300 : Float32ScaleFloor));

    // The float32 floor, 2^−23, is exact in bfloat16 and float16 too, so rounding never takes a scale below it
    // unless it came from float64; the clamp then keeps that scale positive as well.
    static Tensor Stored(Tensor scale, QuantizationArgs args) =>
        args.ScaleDType is { } dtype && dtype != scale.dtype ? scale.to_type(dtype).to_type(scale.dtype).clamp_min(HeldScalars.Of(Float32ScaleFloor)) : scale;

    const double Float32ScaleFloor = 1.1920929e-07;
}
