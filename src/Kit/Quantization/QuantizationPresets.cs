namespace Kit.Quantization;

/// <summary>
/// The weight half of compressed-tensors' preset schemes (<c>quantization/quant_scheme.py</c>). Kit quantizes
/// weights only, so activation settings (W8A8's per-token int8, FP8's static per-tensor inputs) are not
/// represented: a preset here is what its weights are. Left out: FP8_BLOCK (128×128 blocks), the NVFP4 and
/// MX formats (fp4 values, fp8/E8M0 scales) and UNQUANTIZED.
/// </summary>
public static class QuantizationPresets
{
    /// <summary>W4A16: int4, symmetric, groups of 128.</summary>
    public static QuantizationArgs W4A16 { get; } = new()
    {
        NumBits = 4, Symmetric = true, Strategy = QuantizationStrategy.Group, GroupSize = 128,
    };

    /// <summary>W4A16_ASYM: int4, asymmetric (zero points), groups of 128.</summary>
    public static QuantizationArgs W4A16Asym { get; } = W4A16 with { Symmetric = false };

    /// <summary>W8A16: int8, symmetric, groups of 128.</summary>
    public static QuantizationArgs W8A16 { get; } = W4A16 with { NumBits = 8 };

    /// <summary>W8A8 (alias INT8): int8, symmetric, one scale per output channel.</summary>
    public static QuantizationArgs W8A8 { get; } = new()
    {
        NumBits = 8, Symmetric = true, Strategy = QuantizationStrategy.Channel, GroupSize = null,
    };

    /// <summary>FP8: E4M3 with one scale for the whole tensor.</summary>
    public static QuantizationArgs Fp8 { get; } = new()
    {
        NumBits = 8, Type = QuantizationType.Float, Symmetric = true, Strategy = QuantizationStrategy.Tensor, GroupSize = null,
    };

    /// <summary>FP8_DYNAMIC: E4M3 with one scale per output channel (its activations are dynamic per token).</summary>
    public static QuantizationArgs Fp8Dynamic { get; } = Fp8 with { Strategy = QuantizationStrategy.Channel };

    static readonly (string Name, QuantizationArgs Args)[] Table =
    [
        ("W4A16", W4A16),
        ("W4A16_ASYM", W4A16Asym),
        ("W8A16", W8A16),
        ("W8A8", W8A8),
        ("INT8", W8A8),
        // W4A8 and W4AFP8 quantize activations differently; their weights are W4A16's.
        ("W4A8", W4A16),
        ("W4AFP8", W4A16),
        ("FP8", Fp8),
        ("FP8_DYNAMIC", Fp8Dynamic),
    ];

    /// <summary>The preset names <see cref="Parse"/> accepts, as compressed-tensors spells them.</summary>
    public static IReadOnlyList<string> Names { get; } = Array.AsReadOnly(Table.Select(t => t.Name).ToArray());

    /// <summary>
    /// The weight arguments of the preset <paramref name="name"/>, matched case-insensitively as
    /// compressed-tensors upper-cases it; throws <see cref="ArgumentException"/> listing the known names.
    /// </summary>
    public static QuantizationArgs Parse(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        foreach (var (known, args) in Table)
            if (string.Equals(known, name.Trim(), StringComparison.OrdinalIgnoreCase))
                return args;
        throw new ArgumentException($"unknown quantization scheme '{name}'; known schemes: {string.Join(", ", Names)}", nameof(name));
    }

    /// <summary>
    /// How the preset quantizes activations at run time, or null for weight-only schemes:
    /// "int8-dynamic-token" (W8A8, W4A8), "fp8-static-tensor" (FP8), "fp8-dynamic-token" (FP8_DYNAMIC, W4AFP8).
    /// </summary>
    public static string? InputActivations(string name)
    {
        Parse(name);
        return name.Trim().ToUpperInvariant() switch
        {
            "W8A8" or "INT8" or "W4A8" => "int8-dynamic-token",
            "FP8" => "fp8-static-tensor",
            "FP8_DYNAMIC" or "W4AFP8" => "fp8-dynamic-token",
            _ => null,
        };
    }
}
