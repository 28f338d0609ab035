using Kit.Quantization;

namespace Kit.Planning;

/// <summary>
/// How the quantizable weights are stored on the GPU, counted the way compressed-tensors stores them for vLLM:
/// int4 packed eight to an int32, int8 and FP8 one byte each; one 16-bit scale per group, output channel or
/// tensor; with asymmetric integers a zero point of the same bits per scale (packed along output rows); with
/// act-order a 32-bit group index per input column (<c>g_idx</c>). Components that are not quantizable stay at
/// 16 bits (<see cref="WeightTensor.Quantizable"/>).
/// </summary>
public sealed record WeightFormat
{
    /// <summary>bf16, fp16, fp8, int8 or int4.</summary>
    public required string Name { get; init; }

    /// <summary>Bits per quantized weight (16 for bf16/fp16).</summary>
    public required int Bits { get; init; }

    /// <summary>FP8 E4M3 rather than integers.</summary>
    public bool IsFloat { get; init; }

    /// <summary>Which weights share a scale; ignored for 16-bit formats.</summary>
    public QuantizationStrategy Strategy { get; init; } = QuantizationStrategy.Channel;

    /// <summary>Input columns per scale with <see cref="QuantizationStrategy.Group"/>.</summary>
    public int? GroupSize { get; init; }

    /// <summary>Symmetric integers (zero point 0, as GPTQ's W4A16) store no zero points.</summary>
    public bool Symmetric { get; init; } = true;

    /// <summary>GPTQ act-order with groups: a <c>g_idx</c> int32 per input column of every quantized matrix.</summary>
    public bool ActOrder { get; init; }

    /// <summary>Bits of a scale: the model's 16-bit dtype, as llm-compressor stores them.</summary>
    public const int ScaleBits = 16;

    /// <summary>Whether weights are quantized at all (not bf16/fp16).</summary>
    public bool IsQuantized => Bits < 16;

    /// <summary>The 16-bit dtype that unquantized parts are kept in.</summary>
    public string HighPrecisionName => Name == "fp16" ? "fp16" : "bf16";

    /// <summary>The format names <see cref="Parse"/> knows.</summary>
    public static IReadOnlyList<string> Names { get; } = ["bf16", "fp16", "fp8", "int8", "int4"];

    /// <summary>
    /// A format by name with llm-compressor's defaults: int4 symmetric in groups of 128 (W4A16), int8 and fp8 one
    /// scale per output channel (W8A8, FP8_DYNAMIC). <paramref name="groupSize"/> overrides the sharing: a number
    /// of columns, "channel" or "tensor".
    /// </summary>
    /// <exception cref="ArgumentException">Unknown name or group size (the message names it).</exception>
    public static WeightFormat Parse(string name, string? groupSize = null)
    {
        ArgumentNullException.ThrowIfNull(name);
        var format = name.Trim().ToLowerInvariant() switch
        {
            "bf16" or "bfloat16" => new WeightFormat { Name = "bf16", Bits = 16 },
            "fp16" or "float16" => new WeightFormat { Name = "fp16", Bits = 16 },
            "fp8" => new WeightFormat { Name = "fp8", Bits = 8, IsFloat = true },
            "int8" => new WeightFormat { Name = "int8", Bits = 8 },
            "int4" => new WeightFormat { Name = "int4", Bits = 4, Strategy = QuantizationStrategy.Group, GroupSize = 128 },
            _ => throw new ArgumentException($"unknown weight format '{name}' (use {string.Join(", ", Names)})", nameof(name)),
        };
        if (groupSize is null) return format;
        return groupSize.Trim().ToLowerInvariant() switch
        {
            "channel" => format with { Strategy = QuantizationStrategy.Channel, GroupSize = null },
            "tensor" => format with { Strategy = QuantizationStrategy.Tensor, GroupSize = null },
            var g when int.TryParse(g, out int size) && size > 0 => format with { Strategy = QuantizationStrategy.Group, GroupSize = size },
            _ => throw new ArgumentException($"group size must be a positive number of columns, 'channel' or 'tensor', got '{groupSize}'", nameof(groupSize)),
        };
    }

    /// <summary>Throws <see cref="ArgumentException"/> naming the field that does not fit the format.</summary>
    public WeightFormat Validated()
    {
        if (Bits is not (4 or 8 or 16)) throw new ArgumentException($"WeightFormat.Bits must be 4, 8 or 16, got {Bits}", nameof(Bits));
        if (Strategy == QuantizationStrategy.Group && GroupSize is not > 0)
            throw new ArgumentException($"WeightFormat.GroupSize must be positive with groups, got {GroupSize?.ToString() ?? "none"}", nameof(GroupSize));
        if (IsFloat && !Symmetric) throw new ArgumentException("WeightFormat.Symmetric: FP8 E4M3 is symmetric", nameof(Symmetric));
        if (ActOrder && Strategy != QuantizationStrategy.Group)
            throw new ArgumentException("WeightFormat.ActOrder: group indices (g_idx) need group quantization", nameof(ActOrder));
        return this;
    }

    /// <summary>Bytes of <paramref name="tensor"/>'s weights, and of its scales, zero points and group indices.</summary>
    public (long Values, long Metadata) Bytes(WeightTensor tensor)
    {
        Validated();
        if (!IsQuantized || !tensor.Quantizable) return (checked(tensor.Parameters * 2), 0);
        long rows = tensor.Rows, columns = tensor.Columns, count = tensor.Count;
        long values = Bits < 8 ? rows * Int32Bytes(columns) : rows * columns;
        long groups = Strategy == QuantizationStrategy.Group ? (columns + GroupSize!.Value - 1) / GroupSize.Value : 1;
        long scales = Strategy == QuantizationStrategy.Tensor ? 1 : rows * groups;
        long metadata = scales * ScaleBits / 8;
        if (!Symmetric)
            metadata += Strategy == QuantizationStrategy.Tensor ? 1 : Bits < 8 ? Int32Bytes(rows) * groups : rows * groups;
        if (ActOrder) metadata += columns * 4;
        return (checked(values * count), checked(metadata * count));
    }

    /// <summary>How quantized weights are stored, in words.</summary>
    public string Describe()
    {
        if (!IsQuantized) return "16 bits per weight";
        string values = IsFloat ? "fp8 E4M3" : $"int{Bits}{(Symmetric ? " symmetric" : " asymmetric")}";
        string sharing = Strategy switch
        {
            QuantizationStrategy.Group => $"one {ScaleBits}-bit scale per {GroupSize} weights of a row",
            QuantizationStrategy.Channel => $"one {ScaleBits}-bit scale per output channel",
            _ => $"one {ScaleBits}-bit scale per matrix",
        };
        return $"{values}, {sharing}{(Symmetric ? "" : $" plus a {Bits}-bit zero point")}{(ActOrder ? ", 32-bit g_idx per input column" : "")}";
    }

    // Values of this many bits packed along a run of n into int32 words.
    long Int32Bytes(long n) => (n * Bits + 31) / 32 * 4;
}
