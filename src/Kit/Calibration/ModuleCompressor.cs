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
    static Tensor Need(Tensor? hessian, CompressionRecipe recipe) =>
        hessian ?? throw new ArgumentException($"{recipe.Method} needs calibration data");

    static ModuleCompression From(SparsityResult r)
    {
        r.Mask.Dispose();
        return new ModuleCompression(r.Weight, r.Quantized, r.Damping);
    }

    /// <summary>Compresses <paramref name="weight"/> [out, in]; <paramref name="hessian"/> is null for methods without calibration.</summary>
    public static ModuleCompression Compress(CompressionRecipe recipe, Tensor weight, Tensor? hessian)
    {
        switch (recipe.Method)
        {
            case CompressionMethod.Rtn:
                var q = Rtn.Quantize(weight, recipe.Weights!);
                return new ModuleCompression(q.Dequantize(weight.dtype), q, 0);
            case CompressionMethod.Gptq:
                var gptq = new GptqOptions
                {
                    BlockSize = recipe.BlockSize, DampeningFraction = recipe.DampeningFraction,
                    ActOrder = recipe.ActOrder switch { "static" or "weight" => ActOrder.Static, "group" => ActOrder.Group, _ => ActOrder.None },
                };
                var result = Gptq.Quantize(weight, Need(hessian, recipe), recipe.Weights!, gptq);
                return new ModuleCompression(result.Weight, result.Quantized, result.Damping);
            case CompressionMethod.Magnitude:
                return From(MagnitudePruning.Prune(weight, recipe.Sparsity!));
            case CompressionMethod.Wanda:
                // Wanda's ‖X_j‖² is diag(Σ x xᵀ), proportional to diag H; only the ranking matters.
                return From(Wanda.Prune(weight, Need(hessian, recipe).diagonal(), recipe.Sparsity!));
            case CompressionMethod.SparseGpt:
                var options = new SparseGptOptions
                {
                    Pattern = recipe.Sparsity!, BlockSize = recipe.BlockSize, DampeningFraction = recipe.DampeningFraction,
                };
                return From(SparseGpt.Prune(weight, Need(hessian, recipe), options, recipe.Weights));
            default:
                throw new ArgumentOutOfRangeException(nameof(recipe), recipe.Method, "unknown compression method");
        }
    }
}
