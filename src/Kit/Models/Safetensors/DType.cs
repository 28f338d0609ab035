namespace Kit.Models.Safetensors;

/// <summary>
/// The element types a safetensors header may name, spelled as in the header's <c>dtype</c> field.
/// </summary>
public enum DType
{
    /// <summary>IEEE 754 binary64.</summary>
    F64,
    /// <summary>IEEE 754 binary32.</summary>
    F32,
    /// <summary>IEEE 754 binary16.</summary>
    F16,
    /// <summary>bfloat16: the top 16 bits of a binary32.</summary>
    BF16,
    /// <summary>Signed 64-bit integer.</summary>
    I64,
    /// <summary>Signed 32-bit integer.</summary>
    I32,
    /// <summary>Signed 16-bit integer.</summary>
    I16,
    /// <summary>Signed 8-bit integer.</summary>
    I8,
    /// <summary>Unsigned 8-bit integer.</summary>
    U8,
    /// <summary>Boolean, one byte per element (0 or 1).</summary>
    BOOL,
    /// <summary>
    /// 8-bit float with 4 exponent bits (bias 7), 3 mantissa bits, no infinities (PyTorch's
    /// <c>float8_e4m3fn</c>). TorchSharp has no such type: its bits load as <c>uint8</c>, or decoded
    /// into a floating type when one is asked for.
    /// </summary>
    F8_E4M3,
}
