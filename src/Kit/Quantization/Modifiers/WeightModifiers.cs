using static TorchSharp.torch;

namespace Kit.Quantization.Modifiers;

/// <summary>From a recipe (the "what") to the modifiers (the "how") each module gets, in the order they run.</summary>
public static class WeightModifiers
{
    /// <summary>
    /// The modifiers of the module called <paramref name="name"/>: the recipe's <see cref="CompressionRecipe.PruneFirst"/>
    /// step where it applies, then the recipe's own method where it applies; none when neither does.
    /// </summary>
    public static IReadOnlyList<IWeightModifier> For(CompressionRecipe recipe, string name)
    {
        var modifiers = new List<IWeightModifier>();
        if (recipe.PruneFirst is { } step && step.Applies(name))
            modifiers.Add(Pruning(step.Method, step.Sparsity, step.BlockSize, step.DampeningFraction, quantize: null));
        if (recipe.PruneFirst is null || recipe.Quantizes(name))
            modifiers.Add(Of(recipe));
        return modifiers;
    }

    /// <summary>The modifier of the recipe's own method, whatever its targets.</summary>
    public static IWeightModifier Of(CompressionRecipe recipe) => recipe.Method switch
    {
        CompressionMethod.Rtn => new RtnModifier(recipe.Weights ?? throw new ArgumentException("rtn needs a quantization scheme")),
        CompressionMethod.Gptq => new GptqModifier(recipe.Weights ?? throw new ArgumentException("gptq needs a quantization scheme"),
            new GptqOptions { BlockSize = recipe.BlockSize, DampeningFraction = recipe.DampeningFraction, ActOrder = recipe.ActOrder }),
        CompressionMethod.Magnitude or CompressionMethod.Wanda or CompressionMethod.SparseGpt =>
            Pruning(recipe.Method, recipe.Sparsity ?? throw new ArgumentException($"{recipe.Method} needs a sparsity"), recipe.BlockSize,
                recipe.DampeningFraction, recipe.Weights),
        _ => throw new ArgumentOutOfRangeException(nameof(recipe), recipe.Method, "unknown compression method"),
    };

    static IWeightModifier Pruning(CompressionMethod method, SparsityPattern pattern, int blockSize, double dampening, QuantizationArgs? quantize) => method switch
    {
        CompressionMethod.Magnitude => new MagnitudeModifier(pattern),
        CompressionMethod.Wanda => new WandaModifier(pattern),
        CompressionMethod.SparseGpt => new SparseGptModifier(new SparseGptOptions { Pattern = pattern, BlockSize = blockSize, DampeningFraction = dampening }, quantize),
        _ => throw new ArgumentOutOfRangeException(nameof(method), method, "not a pruning method"),
    };

    /// <summary>The Hessian a modifier reads, or an error naming the method when there is none.</summary>
    internal static Tensor Need(Tensor? hessian, CompressionMethod method) =>
        hessian ?? throw new ArgumentException($"{method} needs calibration data");
}
