using Kit.Runtime;
using static TorchSharp.torch;

namespace Kit.Quantization;

/// <summary>
/// A weight matrix [out, in] as codes and grids: what GPTQ and RTN produce and what the compressed
/// formats store. Column j uses the scale and zero point of group <c>GIdx[j]</c>.
/// </summary>
/// <param name="Codes">Codes [out, in]: int8 integers, or for FP8 grids the E4M3 bit patterns as uint8.</param>
/// <param name="Scale">Scales [out, groups] (float32), or [1, 1] for a per-tensor grid.</param>
/// <param name="ZeroPoint">Zero points, same shape as <paramref name="Scale"/> (int8; all 0 when symmetric).</param>
/// <param name="GIdx">Group of each input column [in] (int32): j / group size unless act-order regrouped them.</param>
/// <param name="Args">The grid.</param>
public sealed record QuantizedWeight(Tensor Codes, Tensor Scale, Tensor ZeroPoint, Tensor GIdx, QuantizationArgs Args) : IDisposable
{
    /// <summary>
    /// Stores codes as <see cref="Quantizer.Quantize"/> gives them (float-held integers, or E4M3 values for
    /// FP8 grids) in the compact dtypes of a <see cref="QuantizedWeight"/>: int8 codes or uint8 E4M3 bits,
    /// float32 scales and int8 zero points.
    /// </summary>
    public static QuantizedWeight FromGridCodes(Tensor codes, Tensor scale, Tensor zeroPoint, Tensor gIdx, QuantizationArgs args)
    {
        var stored = args.Type == QuantizationType.Float ? Fp8E4M3.Encode(codes) : codes.to_type(ScalarType.Int8);
        return new QuantizedWeight(stored, scale.to_type(ScalarType.Float32), zeroPoint.to_type(ScalarType.Int8), gIdx, args);
    }

    /// <summary>The weight the codes stand for, [out, in], in <paramref name="dtype"/>.</summary>
    public Tensor Dequantize(ScalarType dtype = ScalarType.Float32)
    {
        using var scope = NewDisposeScope();
        // The codes' float copy is the only full-size temporary: grids are applied to it in place, per group
        // through a [rows, groups, columns per group] view when the groups are whole and in order.
        var values = Args.Type == QuantizationType.Float ? Fp8E4M3.Decode(Codes) : Codes.to_type(ScalarType.Float32);
        var zero = ZeroPoint.to_type(ScalarType.Float32);
        long rows = Codes.shape[0], columns = Codes.shape[1], groups = Scale.shape[1];
        if (groups == 1)
            values.sub_(zero).mul_(Scale);
        else if (InOrder(columns, groups))
            values.view(rows, groups, columns / groups).sub_(zero.unsqueeze(2)).mul_(Scale.unsqueeze(2));
        else
        {
            var index = GIdx.to_type(ScalarType.Int64);
            values.sub_(zero.index_select(1, index)).mul_(Scale.index_select(1, index));
        }
        return values.to_type(dtype).MoveToOuterDisposeScope();
    }

    /// <summary>The g_idx of columns in order (no act-order): column j in group j / <paramref name="columnsPerGroup"/>, int64.</summary>
    public static Tensor InOrderGroups(long columns, long columnsPerGroup, Device? device = null) =>
        ScalarArithmetic.Arange(columns, ScalarType.Int64, device).FloorDividedBy(columnsPerGroup);

    // Whether column j belongs to group j / (columns / groups), as without act-order.
    bool InOrder(long columns, long groups)
    {
        if (columns % groups != 0) return false;
        using var scope = NewDisposeScope();
        var plain = InOrderGroups(columns, columns / groups, GIdx.device);
        return plain.eq(GIdx.to_type(ScalarType.Int64)).all().item<bool>();
    }

    /// <summary>Keeps the tensors alive past the caller's dispose scope.</summary>
    public QuantizedWeight MoveToOuterDisposeScope()
    {
        Codes.MoveToOuterDisposeScope();
        Scale.MoveToOuterDisposeScope();
        ZeroPoint.MoveToOuterDisposeScope();
        GIdx.MoveToOuterDisposeScope();
        return this;
    }

    /// <summary>Frees the tensors.</summary>
    public void Dispose()
    {
        Codes.Dispose();
        Scale.Dispose();
        ZeroPoint.Dispose();
        GIdx.Dispose();
    }
}
