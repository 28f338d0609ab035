using Kit.Quantization;

namespace Kit.Formats.CompressedTensors;

/// <summary>
/// How a serving engine quantizes a Linear's inputs at run time (<c>input_activations</c>). Kit calibrates
/// weights only, so it writes dynamic schemes, whose scales are computed per token while serving.
/// </summary>
/// <param name="NumBits">Bits per value.</param>
/// <param name="Type">Integer or FP8 E4M3.</param>
/// <param name="Symmetric">Whether the zero point is 0.</param>
/// <param name="Strategy">compressed-tensors' strategy name: <c>token</c>, <c>tensor</c>, ...</param>
/// <param name="Dynamic">Whether scales are computed while serving (true) or stored as <c>input_scale</c> (false).</param>
public sealed record ActivationQuantization(int NumBits, QuantizationType Type, bool Symmetric, string Strategy, bool Dynamic)
{
    /// <summary>W8A8's activations: int8, symmetric, one dynamic scale per token.</summary>
    public static ActivationQuantization Int8DynamicToken { get; } = new(8, QuantizationType.Int, true, "token", true);

    /// <summary>FP8_DYNAMIC's activations: E4M3, one dynamic scale per token.</summary>
    public static ActivationQuantization Fp8DynamicToken { get; } = new(8, QuantizationType.Float, true, "token", true);
}
