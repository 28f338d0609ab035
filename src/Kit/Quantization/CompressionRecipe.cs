using Kit.Quantization.Transforms;

namespace Kit.Quantization;

/// <summary>How weights are compressed: the algorithm applied to each target Linear.</summary>
public enum CompressionMethod
{
    /// <summary>Round-to-nearest onto the grid, no calibration data.</summary>
    Rtn,
    /// <summary>GPTQ: quantize column by column, compensating the error with the inverse Hessian.</summary>
    Gptq,
    /// <summary>SparseGPT: prune (and optionally quantize) with the same compensation.</summary>
    SparseGpt,
    /// <summary>Pruning by weight magnitude, no compensation.</summary>
    Magnitude,
    /// <summary>Wanda: pruning by |weight| · input norm, no compensation.</summary>
    Wanda,
}

/// <summary>
/// What to compress and how, as data (in llm-compressor's spirit): the algorithm, the weight grid
/// (a scheme such as W4A16), optional sparsity, the Linears targeted and those ignored.
/// </summary>
public sealed record CompressionRecipe
{
    /// <summary>The algorithm.</summary>
    public CompressionMethod Method { get; init; } = CompressionMethod.Gptq;
    /// <summary>The scheme name the grid came from (W4A16, W8A8, FP8, ...), for reports and saved metadata.</summary>
    public string? Scheme { get; init; }
    /// <summary>The weight grid, or null for pruning alone.</summary>
    public QuantizationArgs? Weights { get; init; }
    /// <summary>How activations are quantized at run time ("int8-dynamic-token" for W8A8), or null for weight-only.</summary>
    public string? InputActivations { get; init; }
    /// <summary>What to prune: a fraction (unstructured) or N zeros in every M inputs; null prunes nothing.</summary>
    public SparsityPattern? Sparsity { get; init; }
    /// <summary>Columns per lazy block (GPTQ, SparseGPT).</summary>
    public int BlockSize { get; init; } = 128;
    /// <summary>Damping as a fraction of the Hessian's mean diagonal.</summary>
    public double DampeningFraction { get; init; } = 0.01;
    /// <summary>GPTQ act-order; <see cref="Kit.Quantization.ActOrder.Static"/> by default, as llm-compressor's GPTQModifier.</summary>
    public ActOrder ActOrder { get; init; } = ActOrder.Static;
    /// <summary>
    /// Pruning applied to each module before this recipe's quantization (<see cref="CompressionMethod.Rtn"/> or
    /// <see cref="CompressionMethod.Gptq"/>), with the pruned weights kept at zero through it: llm-compressor's
    /// <c>SparseGPTModifier</c> followed by a quantization modifier. Null when nothing is pruned first.
    /// </summary>
    public PruningStep? PruneFirst { get; init; }
    /// <summary>
    /// An orthogonal rotation folded into the weights before anything else (QuaRot/SpinQuant's R1 and R2), or null:
    /// llm-compressor's <c>SpinQuantModifier</c>.
    /// </summary>
    public RotationOptions? Rotation { get; init; }
    /// <summary>
    /// Per-channel scales folded into each layer before its Linears are compressed (AWQ or SmoothQuant), or null:
    /// llm-compressor's <c>AWQModifier</c> and <c>SmoothQuantModifier</c>.
    /// </summary>
    public SmoothingOptions? Smoothing { get; init; }

    /// <summary>
    /// GPTAQ's weight α of the asymmetry term (<see cref="Gptaq"/>; 0.25 in the reference): GPTQ aims each Linear at the
    /// original model's outputs from the compressed model's inputs. Null for plain GPTQ. Keeps a second copy of the
    /// calibration activations (the original model's) and runs each layer twice.
    /// </summary>
    public double? AsymmetricCalibration { get; init; }
    /// <summary>Module types or names (or "re:" regexes) to compress.</summary>
    public IReadOnlyList<string> Targets { get; init; } = new[] { "Linear" };
    /// <summary>Module names (or "re:" regexes) left alone.</summary>
    public IReadOnlyList<string> Ignore { get; init; } = new[] { "lm_head" };

    /// <summary>Whether the method needs calibration data (Hessians or input norms).</summary>
    public bool NeedsCalibration =>
        Method is not (CompressionMethod.Rtn or CompressionMethod.Magnitude) || PruneFirst?.Method is CompressionMethod.SparseGpt or CompressionMethod.Wanda
        || Smoothing is not null;

    /// <summary>Throws <see cref="ArgumentException"/> naming the setting that does not fit the method.</summary>
    public CompressionRecipe Validated()
    {
        bool prunes = Method is CompressionMethod.SparseGpt or CompressionMethod.Magnitude or CompressionMethod.Wanda;
        if (prunes && Sparsity is null)
            throw new ArgumentException($"{Method} needs --sparsity or --pattern");
        if (!prunes && Sparsity is not null)
            throw new ArgumentException($"{Method} does not prune; use sparsegpt, magnitude or wanda for --sparsity/--pattern");
        if (Method is CompressionMethod.Rtn or CompressionMethod.Gptq && Weights is null)
            throw new ArgumentException($"{Method} needs a quantization scheme (--scheme)");
        if (Method is CompressionMethod.Magnitude or CompressionMethod.Wanda && Weights is not null)
            throw new ArgumentException($"{Method} prunes only; use sparsegpt to prune and quantize together");
        if (BlockSize < 1) throw new ArgumentException($"block size must be positive, got {BlockSize}");
        if (DampeningFraction <= 0) throw new ArgumentException($"dampening fraction must be positive, got {DampeningFraction}");
        if (!Enum.IsDefined(ActOrder)) throw new ArgumentException($"act-order must be none, static or group, got {ActOrder}");
        if (PruneFirst is not null)
        {
            if (Method is not (CompressionMethod.Rtn or CompressionMethod.Gptq))
                throw new ArgumentException($"pruning before quantization needs rtn or gptq as the method, got {Method}");
            PruneFirst.Validated();
        }
        switch (Smoothing)
        {
            case AwqOptions awq:
                if (Weights is null || Method is not (CompressionMethod.Rtn or CompressionMethod.Gptq))
                    throw new ArgumentException($"AWQ scales weights for a quantization grid: it runs before rtn or gptq with a scheme, not before {Method}");
                if (awq.Grid < 1) throw new ArgumentException($"AWQ's n_grid must be at least 1, got {awq.Grid}");
                break;
            case SmoothQuantOptions smoothQuant:
                if (Weights is null) throw new ArgumentException("SmoothQuant prepares a model for quantization: give a scheme (W8A8)");
                if (smoothQuant.Strength is < 0 or > 1 || double.IsNaN(smoothQuant.Strength))
                    throw new ArgumentException($"SmoothQuant's smoothing strength must lie in [0, 1], got {smoothQuant.Strength}");
                break;
        }
        if (AsymmetricCalibration is { } alpha)
        {
            if (Method != CompressionMethod.Gptq || Weights is null)
                throw new ArgumentException($"GPTAQ's asymmetric calibration is a form of GPTQ: it needs --method gptq with a scheme, not {Method}");
            if (alpha is < 0 or > 1 || double.IsNaN(alpha))
                throw new ArgumentException($"GPTAQ's strength α must lie in [0, 1], got {alpha}");
        }
        Weights?.Validated();
        return this;
    }

    /// <summary>Whether the module called <paramref name="name"/> (e.g. model.layers.0.mlp.down_proj) is compressed by any step.</summary>
    public bool Applies(string name) => Quantizes(name) || PruneFirst?.Applies(name) == true;

    /// <summary>Whether the recipe's own method (not <see cref="PruneFirst"/>) applies to the module called <paramref name="name"/>.</summary>
    public bool Quantizes(string name) => Selects(Targets, Ignore, name);

    /// <summary>Whether <paramref name="name"/> matches one of <paramref name="targets"/> and none of <paramref name="ignore"/>.</summary>
    internal static bool Selects(IReadOnlyList<string> targets, IReadOnlyList<string> ignore, string name) =>
        targets.Any(t => Matches(t, name, isTarget: true)) && !ignore.Any(i => Matches(i, name, isTarget: false));

    static bool Matches(string pattern, string name, bool isTarget)
    {
        if (pattern.StartsWith("re:", StringComparison.Ordinal))
            return System.Text.RegularExpressions.Regex.IsMatch(name, pattern[3..]);
        if (isTarget && pattern == "Linear") return true;
        return name == pattern || name.EndsWith("." + pattern, StringComparison.Ordinal);
    }
}

/// <summary>
/// A pruning pass that runs before a recipe's quantization, with its own targets, ignore list, block size and
/// damping (each llm-compressor modifier keeps its own).
/// </summary>
public sealed record PruningStep
{
    /// <summary>The pruning algorithm: SparseGPT, Wanda or magnitude.</summary>
    public CompressionMethod Method { get; init; } = CompressionMethod.SparseGpt;
    /// <summary>What to prune.</summary>
    public required SparsityPattern Sparsity { get; init; }
    /// <summary>Columns per lazy block (SparseGPT).</summary>
    public int BlockSize { get; init; } = 128;
    /// <summary>Damping as a fraction of the Hessian's mean diagonal (SparseGPT).</summary>
    public double DampeningFraction { get; init; } = 0.01;
    /// <summary>Module types or names (or "re:" regexes) to prune.</summary>
    public IReadOnlyList<string> Targets { get; init; } = new[] { "Linear" };
    /// <summary>Module names (or "re:" regexes) left alone.</summary>
    public IReadOnlyList<string> Ignore { get; init; } = new[] { "lm_head" };

    /// <summary>Whether the module called <paramref name="name"/> is pruned.</summary>
    public bool Applies(string name) => CompressionRecipe.Selects(Targets, Ignore, name);

    /// <summary>Throws <see cref="ArgumentException"/> naming the setting that is out of range.</summary>
    public PruningStep Validated()
    {
        if (Method is not (CompressionMethod.SparseGpt or CompressionMethod.Wanda or CompressionMethod.Magnitude))
            throw new ArgumentException($"a pruning step prunes with sparsegpt, wanda or magnitude, got {Method}");
        if (Sparsity is null) throw new ArgumentException("a pruning step needs a sparsity");
        if (BlockSize < 1) throw new ArgumentException($"pruning block size must be positive, got {BlockSize}");
        if (DampeningFraction <= 0) throw new ArgumentException($"pruning dampening fraction must be positive, got {DampeningFraction}");
        return this;
    }
}
