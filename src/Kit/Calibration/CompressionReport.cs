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
    int CalibrationSeqLen, double Seconds, long PeakAnonymousBytes, long PeakWorkingSetBytes, string OutputFolder);

/// <summary>Progress of a compression run.</summary>
/// <param name="Layer">Layer being compressed.</param>
/// <param name="Layers">Layers in the model.</param>
/// <param name="Module">Module just compressed, or null while capturing inputs.</param>
/// <param name="RelativeError">Its relative error, when one was just compressed with calibration data; otherwise null.</param>
public sealed record CompressionProgress(int Layer, int Layers, string? Module, double? RelativeError);
