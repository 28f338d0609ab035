using System.Diagnostics;
using Kit.Quantization;
using static TorchSharp.torch;

namespace Kit.Calibration;

/// <summary>Applies a recipe's algorithm to one weight matrix given its inputs' Hessian.</summary>
public static class ModuleCompressor
{
    static Tensor Need(Tensor? hessian, CompressionRecipe recipe) =>
        hessian ?? throw new ArgumentException($"{recipe.Method} needs calibration data");

    /// <summary>
    /// Compresses <paramref name="weight"/> [out, in] of the module called <paramref name="name"/>;
    /// <paramref name="hessian"/> is null for methods without calibration. With <see cref="CompressionRecipe.PruneFirst"/>
    /// the module is pruned first (where that step applies) and then quantized (where the recipe's method applies),
    /// as llm-compressor runs one modifier after the other, and the pruned weights stay zero through the quantization.
    /// </summary>
    public static CompressionResult Compress(CompressionRecipe recipe, string name, Tensor weight, Tensor? hessian)
    {
        if (recipe.PruneFirst is not { } step) return Compress(recipe, weight, hessian);
        bool quantizes = recipe.Quantizes(name);
        if (!step.Applies(name)) return quantizes ? Compress(recipe, weight, hessian) : new CompressionResult(weight.clone(), null, null, double.NaN, 0, TimeSpan.Zero);
        var pruning = new CompressionRecipe
        {
            Method = step.Method, Weights = null, Sparsity = step.Sparsity, BlockSize = step.BlockSize,
            DampeningFraction = step.DampeningFraction,
        };
        var pruned = Prune(pruning, weight, hessian);
        if (!quantizes) return pruned;
        var quantized = Quantize(recipe, pruned.Weight, hessian, pruned.Mask);
        pruned.Weight.Dispose();
        return quantized with { Mask = pruned.Mask, Elapsed = pruned.Elapsed + quantized.Elapsed };
    }

    /// <summary>Compresses <paramref name="weight"/> [out, in] with the recipe's own method; <paramref name="hessian"/> is null for methods without calibration.</summary>
    public static CompressionResult Compress(CompressionRecipe recipe, Tensor weight, Tensor? hessian)
    {
        switch (recipe.Method)
        {
            case CompressionMethod.Rtn:
            case CompressionMethod.Gptq:
                return Quantize(recipe, weight, hessian, null);
            case CompressionMethod.Magnitude:
            case CompressionMethod.Wanda:
            case CompressionMethod.SparseGpt:
                return Prune(recipe, weight, hessian);
            default:
                throw new ArgumentOutOfRangeException(nameof(recipe), recipe.Method, "unknown compression method");
        }
    }

    // RTN or GPTQ; pruned (true = pruned) entries are already zero and stay so: RTN maps 0 to 0 on every grid.
    static CompressionResult Quantize(CompressionRecipe recipe, Tensor weight, Tensor? hessian, Tensor? pruned)
    {
        if (recipe.Method == CompressionMethod.Rtn)
        {
            var watch = Stopwatch.StartNew();
            var q = Rtn.Quantize(weight, recipe.Weights!);
            return new CompressionResult(q.Dequantize(weight.dtype), q, null, double.NaN, 0, watch.Elapsed);
        }
        var gptq = new GptqOptions { BlockSize = recipe.BlockSize, DampeningFraction = recipe.DampeningFraction, ActOrder = recipe.ActOrder };
        return Gptq.Quantize(weight, Need(hessian, recipe), recipe.Weights!, gptq, pruned);
    }

    static CompressionResult Prune(CompressionRecipe recipe, Tensor weight, Tensor? hessian)
    {
        switch (recipe.Method)
        {
            case CompressionMethod.Magnitude:
                return MagnitudePruning.Prune(weight, recipe.Sparsity!);
            case CompressionMethod.Wanda:
                // Wanda's ‖X_j‖² is diag(Σ x xᵀ), proportional to diag H; only the ranking matters.
                return Wanda.Prune(weight, Need(hessian, recipe).diagonal(), recipe.Sparsity!);
            default:
                var options = new SparseGptOptions
                {
                    Pattern = recipe.Sparsity!, BlockSize = recipe.BlockSize, DampeningFraction = recipe.DampeningFraction,
                };
                return SparseGpt.Prune(weight, Need(hessian, recipe), options, recipe.Weights);
        }
    }
}
