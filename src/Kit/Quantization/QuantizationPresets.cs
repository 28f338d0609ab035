namespace Kit.Quantization;

/// <summary>
/// compressed-tensors' preset schemes (<c>quantization/quant_scheme.py</c>) that Kit produces as their names say:
/// the weight grid here, the run-time activations in <see cref="InputActivations"/>. FP8 (static per-tensor
/// activation scales, calibrated into <c>input_scale</c>), W4A8 and W4AFP8 (4-bit weights with 8-bit activations)
/// are refused by name: Kit does not calibrate static activation scales nor serve 4-bit weights with quantized
/// activations, and a different model under their names would mislead. Left out: FP8_BLOCK (128×128 blocks),
/// the NVFP4 and MX formats (fp4 values, fp8/E8M0 scales) and UNQUANTIZED.
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

    /// <summary>
    /// FP8's weights: E4M3 with one scale for the whole tensor (a weight-only FP8 config group; the FP8 preset
    /// itself is refused, see the class remarks).
    /// </summary>
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
        ("FP8_DYNAMIC", Fp8Dynamic),
    ];

    static readonly (string Name, string Why)[] Refused =
    [
        ("FP8", "its activations are FP8 with a static per-tensor scale calibrated on the calibration data (input_scale), which Kit does not calibrate; use FP8_DYNAMIC (per-token scales computed while serving)"),
        ("W4A8", "its int4 weights run with int8 per-token activations, which Kit neither writes nor serves; use W4A16 or W8A8"),
        ("W4AFP8", "its int4 weights run with FP8 activations, which Kit neither writes nor serves; use W4A16 or FP8_DYNAMIC"),
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
        foreach (var (refused, why) in Refused)
            if (string.Equals(refused, name.Trim(), StringComparison.OrdinalIgnoreCase))
                throw new ArgumentException($"quantization scheme {refused} is not supported: {why}", nameof(name));
        throw new ArgumentException($"unknown quantization scheme '{name}'; known schemes: {string.Join(", ", Names)}", nameof(name));
    }

    /// <summary>
    /// How the preset quantizes activations at run time, or null for weight-only schemes:
    /// "int8-dynamic-token" (W8A8) or "fp8-dynamic-token" (FP8_DYNAMIC).
    /// </summary>
    public static string? InputActivations(string name)
    {
        Parse(name);
        return name.Trim().ToUpperInvariant() switch
        {
            "W8A8" or "INT8" => "int8-dynamic-token",
            "FP8_DYNAMIC" => "fp8-dynamic-token",
            _ => null,
        };
    }
}
