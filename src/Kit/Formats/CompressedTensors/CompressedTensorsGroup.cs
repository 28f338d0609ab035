using Kit.Quantization;

namespace Kit.Formats.CompressedTensors;

/// <summary>One entry of <c>config_groups</c>: the Linears it targets and how they are quantized.</summary>
/// <param name="Targets">Module class names (<c>Linear</c>), full module names or <c>re:</c> regexes.</param>
/// <param name="Weights">The weight grid.</param>
/// <param name="ActOrder">GPTQ act-order as stored: none (<c>null</c>), <c>static</c> (calibration only) or <c>group</c> (groups in
/// permuted order, <c>weight_g_idx</c> stored).</param>
/// <param name="InputActivations">Run-time activation quantization, or null for weight-only schemes.</param>
/// <param name="Format">This group's format under <see cref="CompressedTensorsFormats.MixedPrecision"/>; null uses the top-level one.</param>
public sealed record CompressedTensorsGroup(
    IReadOnlyList<string> Targets, QuantizationArgs Weights, ActOrder ActOrder = ActOrder.None,
    ActivationQuantization? InputActivations = null, string? Format = null);
