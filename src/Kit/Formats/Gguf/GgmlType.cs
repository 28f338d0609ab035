namespace Kit.Formats.Gguf;

/// <summary>
/// The ggml tensor types Kit reads and writes (values of ggml.h's <c>ggml_type</c>, as stored in a GGUF
/// tensor info). Other types (Q5_0, the K-quants, ...) are recognised by name in errors only.
/// </summary>
public enum GgmlType : uint
{
    /// <summary>IEEE float32.</summary>
    F32 = 0,
    /// <summary>IEEE float16.</summary>
    F16 = 1,
    /// <summary>Blocks of 32: <c>{fp16 d; uint8 qs[16]}</c>, x = (nibble − 8)·d, low nibbles elements 0–15.</summary>
    Q4_0 = 2,
    /// <summary>Blocks of 32: <c>{fp16 d; fp16 m; uint8 qs[16]}</c>, x = nibble·d + m, low nibbles elements 0–15.</summary>
    Q4_1 = 3,
    /// <summary>Blocks of 32: <c>{fp16 d; int8 qs[32]}</c>, x = qs·d.</summary>
    Q8_0 = 8,
    /// <summary>bfloat16 (read only).</summary>
    BF16 = 30,
}

/// <summary>Names of ggml types, including the ones Kit does not read, for error messages.</summary>
internal static class GgmlTypeNames
{
    static readonly string[] Names =
    [
        "F32", "F16", "Q4_0", "Q4_1", "Q4_2", "Q4_3", "Q5_0", "Q5_1", "Q8_0", "Q8_1", "Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K",
        "Q8_K", "IQ2_XXS", "IQ2_XS", "IQ3_XXS", "IQ1_S", "IQ4_NL", "IQ3_S", "IQ2_S", "IQ4_XS", "I8", "I16", "I32", "I64", "F64",
        "IQ1_M", "BF16", "Q4_0_4_4", "Q4_0_4_8", "Q4_0_8_8", "TQ1_0", "TQ2_0", "IQ4_NL_4_4", "IQ4_NL_4_8", "IQ4_NL_8_8", "MXFP4",
    ];

    public static string Of(uint type) => type < Names.Length ? Names[type] : $"unknown type {type}";
}
