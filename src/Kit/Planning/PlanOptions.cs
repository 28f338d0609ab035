namespace Kit.Planning;

/// <summary>
/// What to plan for. The overhead rule: each GPU gives an engine <see cref="GpuMemoryUtilization"/> of its memory
/// (vLLM's <c>gpu_memory_utilization</c>, 0.9 by default: the rest is left free), and inside that budget
/// <see cref="RuntimeReserveGb"/> goes to the CUDA context, CUDA graphs, communication buffers and the activation
/// peak of a forward pass, which vLLM measures at start-up; weights and the KV cache get what is left.
/// </summary>
public sealed record PlanOptions
{
    /// <summary>How quantizable weights are stored.</summary>
    public WeightFormat Format { get; init; } = WeightFormat.Parse("bf16");

    /// <summary>
    /// The KV cache's dtype: bf16, fp16 (2 bytes per value) or fp8 (1 byte, vLLM's <c>--kv-cache-dtype fp8</c>);
    /// null means the 16-bit dtype of the weights (fp16 with fp16 weights, else bf16).
    /// </summary>
    public string? KvFormat { get; init; }

    /// <summary>The KV cache's dtype with the default applied.</summary>
    public string KvFormatName => KvFormat ?? Format.HighPrecisionName;

    /// <summary>Tokens per sequence the KV cache must hold.</summary>
    public long Context { get; init; } = 8192;

    /// <summary>Sequences held at once.</summary>
    public long Batch { get; init; } = 1;

    /// <summary>Memory of one GPU in decimal GB (1 GB = 10⁹ bytes).</summary>
    public double GpuMemoryGb { get; init; } = 80;

    /// <summary>The fraction of each GPU's memory an engine may use; vLLM's default is 0.9.</summary>
    public double GpuMemoryUtilization { get; init; } = 0.9;

    /// <summary>Decimal GB per GPU, inside the utilization budget, for the runtime itself (CUDA context, graphs, activations).</summary>
    public double RuntimeReserveGb { get; init; } = 2;

    /// <summary>GPUs in one node; tensor-parallel sizes are the powers of two up to it.</summary>
    public int GpusPerNode { get; init; } = 8;

    /// <summary>
    /// Whether layers with sliding-window or chunked attention keep only their window of tokens, as vLLM's hybrid
    /// KV cache manager allocates them; false counts every layer at the full context.
    /// </summary>
    public bool CapWindowedLayers { get; init; } = true;

    /// <summary>Bytes of one cached key or value element.</summary>
    public double KvBytesPerValue => KvFormatName switch
    {
        "bf16" or "fp16" => 2,
        "fp8" => 1,
        _ => throw new ArgumentException($"PlanOptions.KvFormat must be bf16, fp16 or fp8, got '{KvFormat}'", nameof(KvFormat)),
    };

    /// <summary>The tensor-parallel sizes tried on one node: 1, 2, 4, … up to <see cref="GpusPerNode"/>.</summary>
    public IReadOnlyList<int> TensorParallelSizes =>
        Enumerable.Range(0, 31).Select(i => 1 << i).TakeWhile(n => n <= GpusPerNode).ToArray();

    /// <summary>Throws <see cref="ArgumentException"/> naming the field that is out of range.</summary>
    public PlanOptions Validated()
    {
        Format.Validated();
        _ = KvBytesPerValue;
        if (Context <= 0) throw Bad(nameof(Context), $"must be positive, got {Context}");
        if (Batch <= 0) throw Bad(nameof(Batch), $"must be positive, got {Batch}");
        if (!(GpuMemoryGb > 0) || double.IsInfinity(GpuMemoryGb)) throw Bad(nameof(GpuMemoryGb), $"must be positive, got {GpuMemoryGb}");
        if (!(GpuMemoryUtilization > 0 && GpuMemoryUtilization <= 1)) throw Bad(nameof(GpuMemoryUtilization), $"must be in (0, 1], got {GpuMemoryUtilization}");
        if (!(RuntimeReserveGb >= 0) || RuntimeReserveGb >= GpuMemoryGb * GpuMemoryUtilization)
            throw Bad(nameof(RuntimeReserveGb), $"must be at least 0 and below the usable {GpuMemoryGb * GpuMemoryUtilization:0.##} GB per GPU, got {RuntimeReserveGb}");
        if (GpusPerNode <= 0) throw Bad(nameof(GpusPerNode), $"must be positive, got {GpusPerNode}");
        return this;
    }

    static ArgumentException Bad(string field, string message) => new($"PlanOptions.{field} {message}", field);
}
