using Kit.Quantization;

namespace Kit.Calibration;

/// <summary>What compressing one Linear did.</summary>
/// <param name="Layer">Decoder layer index.</param>
/// <param name="Module">Full module name, e.g. model.layers.3.self_attn.q_proj.</param>
/// <param name="Rows">Output features.</param>
/// <param name="Columns">Input features.</param>
/// <param name="ErrorPerToken">‖WX − ŴX‖² per calibration token (from the Hessian: tr(ΔW H ΔWᵀ) / 2L); null without calibration data, which it needs.</param>
/// <param name="RelativeError">‖WX − ŴX‖² / ‖WX‖²; null without calibration data (RTN or magnitude pruning run without samples).</param>
/// <param name="Sparsity">Fraction of weights that are exactly zero afterwards.</param>
/// <param name="HessianCondition">Condition number of the damped Hessian, or null when not computed.</param>
/// <param name="Damping">The damping actually used (after any retries), as a fraction of mean diag H.</param>
/// <param name="Seconds">Time spent compressing this module.</param>
public sealed record ModuleReport(int Layer, string Module, long Rows, long Columns, double? ErrorPerToken, double? RelativeError,
    double Sparsity, double? HessianCondition, double Damping, double Seconds);

/// <summary>The outcome of compressing a model.</summary>
/// <param name="Recipe">What was applied.</param>
/// <param name="Modules">One row per compressed Linear, in the order they were compressed.</param>
/// <param name="CalibrationSamples">Calibration sequences used.</param>
/// <param name="CalibrationSeqLen">Tokens per calibration sequence.</param>
/// <param name="Seconds">Wall time of the whole run.</param>
/// <param name="PeakAnonymousBytes">Largest anonymous memory (tensors, activations, Hessians) sampled during the run.</param>
/// <param name="PeakWorkingSetBytes">Peak resident memory of the process, which also counts pages of the memory-mapped checkpoint that were read.</param>
/// <param name="OutputFolder">The model folder written.</param>
public sealed record CompressionReport(CompressionRecipe Recipe, IReadOnlyList<ModuleReport> Modules, int CalibrationSamples,
    int CalibrationSeqLen, double Seconds, long PeakAnonymousBytes, long PeakWorkingSetBytes, string OutputFolder)
{
    /// <summary>Where the calibration activations were kept between layers.</summary>
    public ActivationPlacement Activations { get; init; } = ActivationPlacement.Device;

    /// <summary>One row per mapping that AWQ or SmoothQuant scaled, in layer order; empty without smoothing.</summary>
    public IReadOnlyList<Transforms.SmoothingReport> Smoothing { get; init; } = [];

    /// <summary>
    /// Wall time of each decoder layer this run compressed, in order: loading it, smoothing, Hessians, solves and passing the
    /// activations on. A resumed run lists only the layers it did itself.
    /// </summary>
    public IReadOnlyList<LayerTime> LayerTimes { get; init; } = [];

    /// <summary>On CUDA, the most GPU memory the process held during the run (nvidia-smi, sampled every 100 ms); null elsewhere or without nvidia-smi.</summary>
    public long? PeakGpuBytes { get; init; }
}

/// <summary>How long one decoder layer took in a compression run.</summary>
/// <param name="Layer">Decoder layer index.</param>
/// <param name="Seconds">Wall time from loading the layer to writing its shard.</param>
public sealed record LayerTime(int Layer, double Seconds);

/// <summary>Progress of a compression run: a report as each layer starts, one per module compressed, and a last one with <c>Layer == Layers</c> once every layer is done.</summary>
/// <param name="Layer">Layer being compressed (equal to <paramref name="Layers"/> in the closing report).</param>
/// <param name="Layers">Layers in the model.</param>
/// <param name="Module">Module just compressed, or null while capturing inputs.</param>
/// <param name="RelativeError">Its relative error, when one was just compressed with calibration data; otherwise null.</param>
public sealed record CompressionProgress(int Layer, int Layers, string? Module, double? RelativeError)
{
    /// <summary>
    /// The fraction of the run done: layer i starts at i/Layers, a module's report (sent once it is compressed) counts
    /// half a layer, and the closing report is all of it.
    /// </summary>
    public double Fraction => Layers <= 0 ? 1 : Math.Min(1, (Layer + (Module is null ? 0.0 : 0.5)) / Layers);

    /// <summary>
    /// What is happening, in words: "layer 3/8", "layer 3/8 · model.layers.2.mlp.down_proj (relative error 0.0123)",
    /// "8 layers compressed", and "lm_head (relative error 0.0456)" for the output head, compressed after the layers.
    /// </summary>
    public string Describe() => Module is null
        ? Layer >= Layers ? $"{Layers} layers compressed" : $"layer {Layer + 1}/{Layers}"
        : (Layer >= Layers ? Module : $"layer {Layer + 1}/{Layers} · {Module}") + (RelativeError is double e
            ? $" (relative error {Reports.Readable.Number(e)})"
            : " (no calibration data: error not measured)");
}
