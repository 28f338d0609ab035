using static TorchSharp.torch;

namespace Kit.Calibration;

/// <summary>Where and how the layer-by-layer pipeline runs.</summary>
public sealed record SequentialOptions
{
    /// <summary>"cpu", "cuda", "cuda:N" or "auto".</summary>
    public string Device { get; init; } = "auto";
    /// <summary>Dtype of the layer weights and of each batch of activations while a layer runs (between layers they are kept in the model's dtype).</summary>
    public ScalarType ComputeDType { get; init; } = ScalarType.Float32;
    /// <summary>Dtype of the accumulated Hessians (float32 as the GPTQ reference, or float64).</summary>
    public ScalarType HessianDType { get; init; } = ScalarType.Float32;
    /// <summary>
    /// Where the activations between layers are kept, in the model's dtype: decided from the available memory by
    /// default (<see cref="ActivationPlacement.Auto"/>).
    /// </summary>
    public ActivationPlacement Activations { get; init; } = ActivationPlacement.Auto;
    /// <summary>
    /// The most calibration sequences per forward pass; a pass also takes at most <see cref="TokensPerPass"/> tokens
    /// (<see cref="SequencesPerPass"/>), which bounds the memory one pass needs.
    /// </summary>
    public int BatchSize { get; init; } = 8;

    /// <summary>
    /// The most tokens per forward pass: 8 × 512. A pass of 8 × 2048 tokens through a 7B layer made 4.3 GB of
    /// attention scores alone (docs/BENCHMARKS.md); at 2048 tokens a pass now takes 2 sequences.
    /// </summary>
    public const int TokensPerPass = 8 * 512;

    /// <summary>Sequences per forward pass for sequences of <paramref name="tokens"/>: <see cref="BatchSize"/>, fewer for long ones, at least 1.</summary>
    public int SequencesPerPass(int tokens) => Math.Max(1, Math.Min(BatchSize, TokensPerPass / Math.Max(1, tokens)));
    /// <summary>
    /// Compute each damped Hessian's condition number for the report: a float64 eigen-decomposition per group of
    /// Linears, minutes for a 14336-wide down_proj, so off unless asked for; the report then holds null.
    /// </summary>
    public bool HessianConditionNumbers { get; init; }
    /// <summary>
    /// Receives each compressed Linear's codes and grids (by module name) and owns them afterwards; used to
    /// export formats that need the codes themselves, such as GGUF. Only called for the dense output format.
    /// </summary>
    public Action<string, Kit.Quantization.QuantizedWeight>? QuantizedWeightSink { get; init; }
    /// <summary>The format of the written folder: compressed-tensors or dense (GGUF goes through <see cref="Kit.Formats.ModelExport"/>).</summary>
    public SaveFormat Format { get; init; } = SaveFormat.CompressedTensors;
    /// <summary>Replace an existing output folder (it is only removed once the new one is complete).</summary>
    public bool Overwrite { get; init; }
    /// <summary>
    /// Continue a run that was killed, from the last layer it finished (kept in the output's <c>.partial</c> staging
    /// folder with the activations after it). Without it, a staging folder left by another run is an error.
    /// </summary>
    public bool Resume { get; init; }
}
