using Kit.Quantization;
using static TorchSharp.torch;

namespace Kit.Calibration;

/// <summary>The compressed form of one weight matrix.</summary>
/// <param name="Weight">The new weight [out, in] (fake-quantized and/or pruned), in the original dtype.</param>
/// <param name="Quantized">Codes and grids, when quantized.</param>
/// <param name="Damping">Damping used, as a fraction of mean diag H (0 for methods without a Hessian).</param>
public sealed record ModuleCompression(Tensor Weight, QuantizedWeight? Quantized, double Damping);

/// <summary>Applies a recipe's algorithm to one weight matrix given its inputs' Hessian.</summary>
public static class ModuleCompressor
{
    /// <summary>Compresses <paramref name="weight"/> [out, in]; <paramref name="hessian"/> is null for methods without calibration.</summary>
    public static ModuleCompression Compress(CompressionRecipe recipe, Tensor weight, Tensor? hessian)
    {
        switch (recipe.Method)
        {
            case CompressionMethod.Rtn:
                var q = Rtn.Quantize(weight, recipe.Weights!);
                return new ModuleCompression(q.Dequantize(weight.dtype), q, 0);
            default:
                throw new NotSupportedException($"method {recipe.Method} is not available in this build");
        }
    }
}
