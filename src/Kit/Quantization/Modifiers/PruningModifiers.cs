using static TorchSharp.torch;

namespace Kit.Quantization.Modifiers;

/// <summary>SparseGPT pruning to <see cref="SparseGptOptions.Pattern"/>, quantizing jointly onto <paramref name="Quantize"/>' grid when given.</summary>
public sealed record SparseGptModifier(SparseGptOptions Options, QuantizationArgs? Quantize) : IWeightModifier
{
    /// <inheritdoc />
    public CompressionMethod Method => CompressionMethod.SparseGpt;
    /// <inheritdoc />
    public bool NeedsHessian => true;

    /// <inheritdoc />
    public CompressionResult Apply(Tensor weight, Tensor? hessian, Tensor? pruned) =>
        SparseGpt.Prune(weight, WeightModifiers.Need(hessian, Method), Options, Quantize, pruned);
}

/// <summary>Pruning the smallest |w| to <paramref name="Pattern"/>, without calibration.</summary>
public sealed record MagnitudeModifier(SparsityPattern Pattern) : IWeightModifier
{
    /// <inheritdoc />
    public CompressionMethod Method => CompressionMethod.Magnitude;
    /// <inheritdoc />
    public bool NeedsHessian => false;

    /// <inheritdoc />
    public CompressionResult Apply(Tensor weight, Tensor? hessian, Tensor? pruned) => MagnitudePruning.Prune(weight, Pattern);
}

/// <summary>Wanda: pruning the smallest |w| · ‖x‖ to <paramref name="Pattern"/>.</summary>
public sealed record WandaModifier(SparsityPattern Pattern) : IWeightModifier
{
    /// <inheritdoc />
    public CompressionMethod Method => CompressionMethod.Wanda;
    /// <inheritdoc />
    public bool NeedsHessian => true;

    /// <inheritdoc />
    // Wanda's ‖X_j‖² is diag(Σ x xᵀ), proportional to diag H; only the ranking matters.
    public CompressionResult Apply(Tensor weight, Tensor? hessian, Tensor? pruned) =>
        Wanda.Prune(weight, WeightModifiers.Need(hessian, Method).diagonal(), Pattern);
}
