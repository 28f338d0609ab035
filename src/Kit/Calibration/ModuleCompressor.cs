using Kit.Quantization;
using Kit.Quantization.Modifiers;
using static TorchSharp.torch;

namespace Kit.Calibration;

/// <summary>Applies a recipe's modifiers to one weight matrix given its inputs' Hessian.</summary>
public static class ModuleCompressor
{
    /// <summary>
    /// Compresses <paramref name="weight"/> [out, in] of the module called <paramref name="name"/> with the modifiers the
    /// recipe gives it (<see cref="WeightModifiers.For"/>), one after the other as llm-compressor runs them: a pruning
    /// step first where it applies, whose pruned weights then stay zero, and the recipe's method where it applies.
    /// <paramref name="hessian"/> is null for methods without calibration. The result carries the last modifier's codes
    /// and the pruning's mask; a module no modifier applies to comes back unchanged (a copy).
    /// </summary>
    public static CompressionResult Compress(CompressionRecipe recipe, string name, Tensor weight, Tensor? hessian) =>
        Compress(WeightModifiers.For(recipe, name), weight, hessian);

    /// <summary>Compresses <paramref name="weight"/> [out, in] with the recipe's own method alone; <paramref name="hessian"/> is null for methods without calibration.</summary>
    public static CompressionResult Compress(CompressionRecipe recipe, Tensor weight, Tensor? hessian) =>
        Compress([WeightModifiers.Of(recipe)], weight, hessian);

    static CompressionResult Compress(IReadOnlyList<IWeightModifier> modifiers, Tensor weight, Tensor? hessian)
    {
        CompressionResult? result = null;
        foreach (var modifier in modifiers)
        {
            var next = modifier.Apply(result?.Weight ?? weight, hessian, result?.Mask);
            if (result is null)
            {
                result = next;
                continue;
            }
            result.Weight.Dispose();
            result.Quantized?.Dispose();
            result = next with { Mask = next.Mask ?? result.Mask, Elapsed = result.Elapsed + next.Elapsed };
        }
        return result ?? new CompressionResult(weight.clone(), null, null, double.NaN, 0, TimeSpan.Zero);
    }
}
