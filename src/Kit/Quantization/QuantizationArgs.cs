namespace Kit.Quantization;

/// <summary>Whether weights snap to an integer grid or to a floating-point format.</summary>
public enum QuantizationType
{
    /// <summary>Signed integers of 2–8 bits times a scale (and a zero point when asymmetric).</summary>
    Int,
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
}

/// <summary>
/// What a weight grid is, in compressed-tensors' terms: integers in [−2^(b−1), 2^(b−1)−1], symmetric
/// (zero point 0) or asymmetric, with one scale per tensor, channel or group along the input dimension.
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

    /// <summary>The smallest code, −2^(b−1).</summary>
    public int QMin => -(1 << (NumBits - 1));
    /// <summary>The largest code, 2^(b−1) − 1.</summary>
    public int QMax => (1 << (NumBits - 1)) - 1;

    /// <summary>Throws <see cref="ArgumentException"/> naming the field that is out of range.</summary>
    public QuantizationArgs Validated()
    {
        if (Type == QuantizationType.Int && NumBits is < 2 or > 8)
            throw new ArgumentException($"integer quantization needs 2 to 8 bits, got {NumBits}");
        if (Strategy == QuantizationStrategy.Group && GroupSize is not > 0)
            throw new ArgumentException($"group quantization needs a positive group size, got {GroupSize?.ToString() ?? "none"}");
        return this;
    }

    /// <summary>Columns that share one scale in a matrix with <paramref name="columns"/> input columns.</summary>
    public int ColumnsPerScale(long columns) => Strategy == QuantizationStrategy.Group ? GroupSize!.Value : (int)columns;
}
