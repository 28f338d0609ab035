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
        var index = GIdx.to_type(ScalarType.Int64);
        var scale = Scale.shape[1] == 1 ? Scale : Scale.index_select(1, index);
        var zero = ZeroPoint.shape[1] == 1 ? ZeroPoint : ZeroPoint.index_select(1, index);
        var codes = Args.Type == QuantizationType.Float ? Fp8E4M3.Decode(Codes) : Codes.to_type(ScalarType.Float32);
        var values = (codes - zero.to_type(ScalarType.Float32)) * scale.expand(Codes.shape);
        return values.to_type(dtype).MoveToOuterDisposeScope();
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
