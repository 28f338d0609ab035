using static TorchSharp.torch;

namespace Kit.Quantization;

/// <summary>How GPTQ runs; the grid itself is <see cref="QuantizationArgs"/>.</summary>
public sealed record GptqOptions
{
    /// <summary>Columns per lazy batch: updates inside a block are applied column by column, to the rest at its end.</summary>
    public int BlockSize { get; init; } = 128;

    /// <summary>Damping λ = this · mean(diag H), added to the diagonal of H (the reference's percdamp).</summary>
    public double DampeningFraction { get; init; } = 0.01;

    /// <summary>Column order; llm-compressor's default is <see cref="ActOrder.Static"/>.</summary>
    public ActOrder ActOrder { get; init; } = ActOrder.Static;

    /// <summary>
    /// With <see cref="ActOrder.None"/> and the group strategy: fit every group's grid on the weight before
    /// the column loop (the reference's static_groups, llm-compressor's behaviour) instead of when GPTQ
    /// reaches the group's first column. Implied by <see cref="ActOrder.Static"/>; contradicts <see cref="ActOrder.Group"/>.
    /// </summary>
    public bool StaticGroups { get; init; }

    /// <summary>Further tries, each with ten times the dampening fraction, when Cholesky fails.</summary>
    public int MaxDampingRetries { get; init; } = 5;

    /// <summary>Precision of H, Hinv and the updates: float32 as the reference, or float64.</summary>
    public ScalarType ComputeDType { get; init; } = ScalarType.Float32;

    /// <summary>Throws <see cref="ArgumentException"/> naming the option that is out of range or conflicts with <paramref name="args"/>.</summary>
    public GptqOptions Validated(QuantizationArgs args)
    {
        if (BlockSize < 1)
            throw new ArgumentException($"GPTQ {nameof(BlockSize)} must be at least 1, got {BlockSize}");
        if (DampeningFraction < 0 || !double.IsFinite(DampeningFraction))
            throw new ArgumentException($"GPTQ {nameof(DampeningFraction)} must be 0 or more, got {DampeningFraction}");
        if (MaxDampingRetries < 0)
            throw new ArgumentException($"GPTQ {nameof(MaxDampingRetries)} must be 0 or more, got {MaxDampingRetries}");
        if (ComputeDType is not (ScalarType.Float32 or ScalarType.Float64))
            throw new ArgumentException($"GPTQ {nameof(ComputeDType)} must be Float32 or Float64, got {ComputeDType}");
        if (ActOrder == ActOrder.Group && args.Strategy != QuantizationStrategy.Group)
            throw new ArgumentException($"GPTQ {nameof(ActOrder)} Group needs the group strategy, got {args.Strategy}");
        if (ActOrder == ActOrder.Group && StaticGroups)
            throw new ArgumentException($"GPTQ {nameof(StaticGroups)} contradicts {nameof(ActOrder)} Group (act-order with static groups is {nameof(ActOrder)} Static)");
        return this;
    }
}
