using TorchSharp;

namespace Kit.Models.Safetensors;

/// <summary>Conversions between <see cref="DType"/>, its header spelling, its size and TorchSharp types.</summary>
public static class DTypes
{
    /// <summary>Parses a header <c>dtype</c> string; null when the spelling is not one Kit supports.</summary>
    public static DType? Parse(string name) => name switch
    {
        "F64" => DType.F64,
        "F32" => DType.F32,
        "F16" => DType.F16,
        "BF16" => DType.BF16,
        "I64" => DType.I64,
        "I32" => DType.I32,
        "I16" => DType.I16,
        "I8" => DType.I8,
        "U8" => DType.U8,
        "BOOL" => DType.BOOL,
        "F8_E4M3" => DType.F8_E4M3,
        _ => null,
    };

    /// <summary>The header spelling of <paramref name="dtype"/>.</summary>
    public static string Name(this DType dtype) => dtype.ToString();

    /// <summary>Bytes per element.</summary>
    public static int ElementSize(this DType dtype) => dtype switch
    {
        DType.F64 or DType.I64 => 8,
        DType.F32 or DType.I32 => 4,
        DType.F16 or DType.BF16 or DType.I16 => 2,
        DType.I8 or DType.U8 or DType.BOOL or DType.F8_E4M3 => 1,
        _ => throw new ArgumentOutOfRangeException(nameof(dtype), dtype, "unknown safetensors dtype"),
    };

    /// <summary>
    /// The TorchSharp type whose storage holds this dtype's bytes unchanged. F8_E4M3 maps to
    /// <c>uint8</c> (raw bits) because TorchSharp has no float8 type.
    /// </summary>
    public static torch.ScalarType ToScalarType(this DType dtype) => dtype switch
    {
        DType.F64 => torch.ScalarType.Float64,
        DType.F32 => torch.ScalarType.Float32,
        DType.F16 => torch.ScalarType.Float16,
        DType.BF16 => torch.ScalarType.BFloat16,
        DType.I64 => torch.ScalarType.Int64,
        DType.I32 => torch.ScalarType.Int32,
        DType.I16 => torch.ScalarType.Int16,
        DType.I8 => torch.ScalarType.Int8,
        DType.U8 or DType.F8_E4M3 => torch.ScalarType.Byte,
        DType.BOOL => torch.ScalarType.Bool,
        _ => throw new ArgumentOutOfRangeException(nameof(dtype), dtype, "unknown safetensors dtype"),
    };

    /// <summary>The dtype a TorchSharp tensor of <paramref name="type"/> is stored as; null when safetensors (as Kit supports it) has none.</summary>
    public static DType? FromScalarType(torch.ScalarType type) => type switch
    {
        torch.ScalarType.Float64 => DType.F64,
        torch.ScalarType.Float32 => DType.F32,
        torch.ScalarType.Float16 => DType.F16,
        torch.ScalarType.BFloat16 => DType.BF16,
        torch.ScalarType.Int64 => DType.I64,
        torch.ScalarType.Int32 => DType.I32,
        torch.ScalarType.Int16 => DType.I16,
        torch.ScalarType.Int8 => DType.I8,
        torch.ScalarType.Byte => DType.U8,
        torch.ScalarType.Bool => DType.BOOL,
        _ => null,
    };
}
