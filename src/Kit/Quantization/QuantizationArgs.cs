using TorchSharp;

namespace Kit.Quantization;

/// <summary>Whether weights snap to an integer grid or to a floating-point format.</summary>
public enum QuantizationType
{
    /// <summary>Signed integers of 2–8 bits times a scale (and a zero point when asymmetric).</summary>
    Int,
    /// <summary>
    /// FP8 E4M3 ("e4m3fn": no infinities, largest finite value 448) times a scale; always symmetric,
    /// 8 bits. The scale maps the range's absolute maximum to 448.
    /// </summary>
    Float,
}

/// <summary>How many values share one scale.</summary>
public enum QuantizationStrategy
{
    /// <summary>One scale for the whole matrix.</summary>
    Tensor,
    /// <summary>One scale per output row.</summary>
    Channel,
    /// <summary>One scale per output row and per run of <see cref="QuantizationArgs.GroupSize"/> input columns.</summary>
    Group,
}

/// <summary>How a scale is chosen from the values it covers.</summary>
public enum QuantizationObserver
{
    /// <summary>The grid spans the values' minimum and maximum (both including zero).</summary>
    MinMax,
    /// <summary>
    /// The GPTQ reference's clipping search (<c>Quantizer</c> with <c>mse=True</c>): the min-max range is
    /// shrunk by p = 1 − i/<see cref="QuantizationArgs.MseGrid"/> for i &lt; <see cref="QuantizationArgs.MseMaxShrink"/>·grid,
    /// and each row keeps the p with the least Σ|q(x) − x|^<see cref="QuantizationArgs.MseNorm"/>.
    /// </summary>
    Mse,
}

/// <summary>
/// What a weight grid is, in compressed-tensors' terms: integers in [−2^(b−1), 2^(b−1)−1], symmetric
/// (zero point 0) or asymmetric, or FP8 E4M3 values (symmetric), with one scale per tensor, channel or
/// group along the input dimension.
/// </summary>
public sealed record QuantizationArgs
{
    /// <summary>Bits per value.</summary>
    public int NumBits { get; init; } = 4;
    /// <summary>Integer or floating-point grid.</summary>
    public QuantizationType Type { get; init; } = QuantizationType.Int;
    /// <summary>Symmetric grids have zero point 0; asymmetric ones fit the range [min, max].</summary>
    public bool Symmetric { get; init; } = true;
    /// <summary>Which values share a scale.</summary>
    public QuantizationStrategy Strategy { get; init; } = QuantizationStrategy.Group;
    /// <summary>Input columns per group, for <see cref="QuantizationStrategy.Group"/>.</summary>
    public int? GroupSize { get; init; } = 128;
    /// <summary>How scales are chosen.</summary>
    public QuantizationObserver Observer { get; init; } = QuantizationObserver.MinMax;

    /// <summary>
    /// Exponent of the error the <see cref="QuantizationObserver.Mse"/> search minimises: 2.4 as in the GPTQ
    /// reference and llm-compressor's <c>mse</c> observer.
    /// </summary>
    public double MseNorm { get; init; } = 2.4;
    /// <summary>Shrink steps per unit of range for the <see cref="QuantizationObserver.Mse"/> search: 100 as in both references.</summary>
    public int MseGrid { get; init; } = 100;
    /// <summary>
    /// How far the <see cref="QuantizationObserver.Mse"/> search may shrink the range: 0.8 (down to 21% of it)
    /// as in the GPTQ reference; llm-compressor's <c>mse</c> observer uses 0.20.
    /// </summary>
    public double MseMaxShrink { get; init; } = 0.8;

    /// <summary>
    /// The dtype the checkpoint stores scales in (the model's: bfloat16, float16 or float32), or null to keep
    /// the working precision. Grids are made with their scales rounded to it, so that the values GPTQ, SparseGPT
    /// and RTN snap to and compensate for are the ones the writer stores and a loader dequantizes, as
    /// llm-compressor's scales are in the model's dtype during GPTQ.
    /// </summary>
    public torch.ScalarType? ScaleDType { get; init; }

    /// <summary>The largest finite FP8 E4M3 value, the top of the float grid.</summary>
    public const int Fp8Max = 448;

    /// <summary>The smallest code: −2^(b−1) for integers, −448 for FP8 E4M3.</summary>
    public int QMin => Type == QuantizationType.Float ? -Fp8Max : -(1 << (NumBits - 1));
    /// <summary>The largest code: 2^(b−1) − 1 for integers, 448 for FP8 E4M3.</summary>
    public int QMax => Type == QuantizationType.Float ? Fp8Max : (1 << (NumBits - 1)) - 1;

    /// <summary>
    /// Shrink factors the <see cref="QuantizationObserver.Mse"/> search tries: int(maxshrink · grid), truncated
    /// as the reference's <c>int(self.maxshrink * self.grid)</c>.
    /// </summary>
    public int MseCandidates => (int)(MseMaxShrink * MseGrid);

    /// <summary>
    /// Throws <see cref="ArgumentException"/> naming the field that is out of range. FP8 needs 8 bits and a
    /// symmetric grid; it may use any strategy, groups included (as MXFP8 does).
    /// </summary>
    public QuantizationArgs Validated()
    {
        if (Type == QuantizationType.Int && NumBits is < 2 or > 8)
            throw Bad(nameof(NumBits), $"integer quantization needs 2 to 8 bits, got {NumBits}");
        if (Type == QuantizationType.Float && NumBits != 8)
            throw Bad(nameof(NumBits), $"float quantization is FP8 E4M3 and needs 8 bits, got {NumBits}");
        if (Type == QuantizationType.Float && !Symmetric)
            throw Bad(nameof(Symmetric), "FP8 E4M3 quantization is symmetric (zero point 0), got Symmetric = false");
        if (Strategy == QuantizationStrategy.Group && GroupSize is not > 0)
            throw Bad(nameof(GroupSize), $"group quantization needs a positive group size, got {GroupSize?.ToString() ?? "none"}");
        if (ScaleDType is not (null or torch.ScalarType.Float32 or torch.ScalarType.Float16 or torch.ScalarType.BFloat16))
            throw Bad(nameof(ScaleDType), $"scales are stored as float32, float16 or bfloat16, got {ScaleDType}");
        if (Observer == QuantizationObserver.Mse)
        {
            if (!(MseNorm > 0) || double.IsInfinity(MseNorm))
                throw Bad(nameof(MseNorm), $"the MSE search needs a positive finite norm, got {MseNorm}");
            if (MseGrid < 1)
                throw Bad(nameof(MseGrid), $"the MSE search needs at least one grid step, got {MseGrid}");
            if (!(MseMaxShrink > 0 && MseMaxShrink <= 1) || MseCandidates < 1)
                throw Bad(nameof(MseMaxShrink), $"the MSE search needs 0 < maxshrink ≤ 1 with maxshrink · grid ≥ 1, got {MseMaxShrink} with grid {MseGrid}");
        }
        return this;
    }

    /// <summary>Columns that share one scale in a matrix with <paramref name="columns"/> input columns.</summary>
    public int ColumnsPerScale(long columns) => Strategy == QuantizationStrategy.Group ? GroupSize!.Value : (int)columns;

    /// <summary>Scales per row of a matrix with <paramref name="columns"/> input columns (a ragged last group counts).</summary>
    public int ScalesPerRow(long columns)
    {
        Validated();
        // A last, shorter group covers the columns left over, as in the GPTQ reference.
        int perScale = ColumnsPerScale(columns);
        return (int)((columns + perScale - 1) / perScale);
    }

    static ArgumentException Bad(string field, string message) =>
        new($"QuantizationArgs.{field}: {message}", field);
}
