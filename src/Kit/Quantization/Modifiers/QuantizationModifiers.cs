using System.Diagnostics;
using static TorchSharp.torch;

namespace Kit.Quantization.Modifiers;

/// <summary>Round-to-nearest onto <paramref name="Args"/>' grid; RTN maps 0 to 0 on every grid, so pruned weights stay zero.</summary>
public sealed record RtnModifier(QuantizationArgs Args) : IWeightModifier
{
    /// <inheritdoc />
    public CompressionMethod Method => CompressionMethod.Rtn;
    /// <inheritdoc />
    public bool NeedsHessian => false;

    /// <inheritdoc />
    public CompressionResult Apply(Tensor weight, Tensor? hessian, Tensor? pruned)
    {
        var watch = Stopwatch.StartNew();
        var q = Rtn.Quantize(weight, Args);
        return new CompressionResult(q.Dequantize(weight.dtype), q, null, double.NaN, 0, watch.Elapsed);
    }
}

/// <summary>GPTQ onto <paramref name="Args"/>' grid with <paramref name="Options"/> (block size, damping, act-order).</summary>
public sealed record GptqModifier(QuantizationArgs Args, GptqOptions Options) : IWeightModifier
{
    /// <inheritdoc />
    public CompressionMethod Method => CompressionMethod.Gptq;
    /// <inheritdoc />
    public bool NeedsHessian => true;

    /// <inheritdoc />
    public CompressionResult Apply(Tensor weight, Tensor? hessian, Tensor? pruned) =>
        Gptq.Quantize(weight, WeightModifiers.Need(hessian, Method), Args, Options, pruned);
}
