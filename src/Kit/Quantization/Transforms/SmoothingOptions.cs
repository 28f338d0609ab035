using System.Text.Json.Serialization;

namespace Kit.Quantization.Transforms;

/// <summary>
/// Per-input-channel scales that move difficulty between a Linear's inputs and its weights, folded into the operation
/// before it (an RMSNorm's weight or the previous Linear's rows), so the saved checkpoint is a plain model.
/// </summary>
[JsonPolymorphic(TypeDiscriminatorPropertyName = "kind")]
[JsonDerivedType(typeof(AwqOptions), "awq")]
[JsonDerivedType(typeof(SmoothQuantOptions), "smoothquant")]
public abstract record SmoothingOptions;

/// <summary>
/// AWQ (Lin et al., 2024): for each mapping, scales s = x̄^α / w̄^(1−α) (or x̄^α alone without duo scaling), normalised by
/// √(max s · min s), with α on a grid of <see cref="Grid"/> points in [0, 1), keeping the α whose quantized weights
/// make the smallest output error, as llm-compressor's <c>AWQModifier</c> (<c>n_grid</c>, <c>duo_scaling</c>).
/// </summary>
public sealed record AwqOptions : SmoothingOptions
{
    /// <summary>Grid points for α (llm-compressor's <c>n_grid</c>, 20).</summary>
    public int Grid { get; init; } = 20;

    /// <summary>Which forms of the scales are searched (llm-compressor's <c>duo_scaling</c>: true, false or "both").</summary>
    public AwqDuoScaling DuoScaling { get; init; } = AwqDuoScaling.Duo;
}

/// <summary>The scale forms an AWQ search tries.</summary>
public enum AwqDuoScaling
{
    /// <summary>s = x̄^α (duo_scaling: false).</summary>
    ActivationsOnly,
    /// <summary>s = x̄^α / w̄^(1−α) (duo_scaling: true, the default).</summary>
    Duo,
    /// <summary>Both forms, the better one kept (duo_scaling: both).</summary>
    Both,
}

/// <summary>
/// SmoothQuant (Xiao et al., 2023): s_j = max|x_j|^α / max|W_:,j|^(1−α) with migration strength α, for W8A8: activations
/// get easier to quantize per token, weights absorb the outliers. llm-compressor's <c>SmoothQuantModifier</c>
/// (<c>smoothing_strength</c>).
/// </summary>
public sealed record SmoothQuantOptions : SmoothingOptions
{
    /// <summary>Migration strength α in [0, 1] (0.5 by default, as the paper and llm-compressor).</summary>
    public double Strength { get; init; } = 0.5;
}
