namespace Kit.Planning;

/// <summary>
/// How much GPU memory a model needs in a format and how many GPUs serve it, vLLM-style: tensor parallelism over
/// a power-of-two number of GPUs within a node, pipeline stages across nodes when one node is not enough.
/// All sizes are bytes; the text output shows decimal GB (10⁹ bytes), as GPU makers and the Llama 4 figures do.
/// </summary>
public sealed record DeploymentPlan
{
    /// <summary>Where the model's figures come from.</summary>
    public required string Model { get; init; }
    /// <summary>The config's model_type, or null for a bare parameter count.</summary>
    public string? ModelType { get; init; }
    /// <summary>All parameters.</summary>
    public required long Parameters { get; init; }
    /// <summary>Parameters per token for mixture-of-experts models, else null.</summary>
    public long? ActiveParameters { get; init; }
    /// <summary>Routed experts per MoE layer and per token, or null for dense models.</summary>
    public int? Experts { get; init; }
    /// <summary>Routed experts each token uses, or null for dense models.</summary>
    public int? ExpertsPerToken { get; init; }
    /// <summary>Weights by component.</summary>
    public required IReadOnlyList<ComponentWeight> Components { get; init; }
    /// <summary>The weight format's name: bf16, fp16, fp8, int8 or int4.</summary>
    public required string Format { get; init; }
    /// <summary>The weight format in words.</summary>
    public required string FormatDescription { get; init; }

    /// <summary>All weights with scales, zero points and group indices; unquantized components at 16 bits.</summary>
    public required long WeightBytes { get; init; }
    /// <summary>Every parameter at the format's bits, nothing else: the rule-of-thumb figure (params × bits / 8).</summary>
    public required long NominalWeightBytes { get; init; }

    /// <summary>Tokens per sequence the KV cache holds.</summary>
    public required long Context { get; init; }
    /// <summary>Sequences held at once.</summary>
    public required long Batch { get; init; }
    /// <summary>The KV cache's dtype.</summary>
    public required string KvFormat { get; init; }
    /// <summary>KV cache for <see cref="Context"/> × <see cref="Batch"/> tokens before any replication; null when the model's layout is unknown.</summary>
    public long? KvCacheBytes { get; init; }
    /// <summary>KV bytes one token adds at every layer; null when unknown.</summary>
    public long? KvBytesPerToken { get; init; }
    /// <summary>Decoder layers, and how many of them keep only a window of tokens; null when unknown.</summary>
    public int? Layers { get; init; }
    /// <summary>Layers whose KV cache a sliding window or attention chunk caps (counted so only when the options say).</summary>
    public int WindowedLayers { get; init; }

    /// <summary>Memory of one GPU.</summary>
    public required long GpuMemoryBytes { get; init; }
    /// <summary>The fraction of each GPU the engine may use.</summary>
    public required double GpuMemoryUtilization { get; init; }
    /// <summary>Per GPU, inside the utilization budget: the runtime's own memory (CUDA context, graphs, activations).</summary>
    public required long RuntimeReserveBytes { get; init; }
    /// <summary>Per GPU: memory left free by the utilization fraction plus the runtime reserve.</summary>
    public required long OverheadBytesPerGpu { get; init; }

    /// <summary>How the model lies on 1, 2, 4 and 8 GPUs (the node's tensor-parallel sizes).</summary>
    public required IReadOnlyList<GpuFit> Fits { get; init; }

    /// <summary>The fewest GPUs whose whole memory the weights alone would fill: ceil(weights / GPU memory). No deployment uses fewer.</summary>
    public required int MinimumGpus { get; init; }
    /// <summary>The tensor-parallel size chosen: the smallest valid power of two that fits, or the largest valid one with pipeline stages.</summary>
    public required int TensorParallel { get; init; }
    /// <summary>Pipeline stages (1 unless one node's tensor parallelism is not enough).</summary>
    public required int PipelineParallel { get; init; }
    /// <summary>GPUs used: tensor parallel × pipeline stages.</summary>
    public required int Gpus { get; init; }
    /// <summary>Nodes of <c>GpusPerNode</c> GPUs needed.</summary>
    public required int Nodes { get; init; }
    /// <summary>Whether the deployment needs more than one node.</summary>
    public bool MultiNode => Nodes > 1;

    /// <summary>Overhead on all <see cref="Gpus"/> GPUs.</summary>
    public required long OverheadBytes { get; init; }
    /// <summary>Weights + KV cache (with replication) + overhead on all <see cref="Gpus"/> GPUs.</summary>
    public required long TotalBytes { get; init; }
    /// <summary>Usable memory left for more KV cache on the chosen GPUs.</summary>
    public required long KvRoomBytes { get; init; }
    /// <summary>
    /// How many more tokens (summed over sequences) that room holds at the full per-token cost; with windowed
    /// layers this is a lower bound. Null when the KV layout is unknown.
    /// </summary>
    public long? KvRoomTokens { get; init; }

    /// <summary>
    /// The <c>vllm serve</c> line for this deployment (<see cref="VllmServeCommand"/>), or null when the plan comes from a
    /// parameter count and there is no model folder or hub id to serve.
    /// </summary>
    public string? VllmCommand { get; init; }

    /// <summary>What the count includes or leaves out, and why the GPU count is what it is.</summary>
    public required IReadOnlyList<string> Notes { get; init; }

    /// <summary>Plans a deployment of <paramref name="model"/> under <paramref name="options"/>.</summary>
    /// <exception cref="ArgumentException">An option is out of range (the message names it).</exception>
    /// <exception cref="InvalidOperationException">The model does not fit even with one layer per pipeline stage.</exception>
    public static DeploymentPlan Create(ModelFootprint model, PlanOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        var o = (options ?? new PlanOptions()).Validated();
        var format = o.Format;

        var components = model.Tensors.GroupBy(t => t.Component).Select(g =>
        {
            var bytes = g.Select(format.Bytes).ToArray();
            bool quantized = format.IsQuantized && g.Any(t => t.Quantizable);
            return new ComponentWeight(g.Key, g.Sum(t => t.Parameters), quantized ? format.Name : format.HighPrecisionName,
                bytes.Sum(b => b.Values + b.Metadata), bytes.Sum(b => b.Metadata));
        }).ToArray();
        long weights = components.Sum(c => c.Bytes);
        long parameters = model.Parameters;

        var layout = model.Attention;
        long? kv = layout?.Bytes(o.Context, o.Batch, o.KvBytesPerValue, o.CapWindowedLayers);
        long? perToken = layout?.BytesPerToken(o.KvBytesPerValue);
        long gpuBytes = (long)(o.GpuMemoryGb * 1e9);
        long usablePerGpu = (long)(gpuBytes * o.GpuMemoryUtilization - o.RuntimeReserveGb * 1e9);
        long overheadPerGpu = gpuBytes - usablePerGpu;

        GpuFit Fit(int tp, int pp)
        {
            int n = tp * pp;
            long kvTotal = (kv ?? 0) * Replication(layout, tp);
            long spare = n * usablePerGpu - weights - kvTotal;
            return new GpuFit(n, tp, ValidTensorParallel(layout, tp), Ceil(weights, n), Ceil(kvTotal, n), overheadPerGpu, spare >= 0, spare);
        }

        var fits = o.TensorParallelSizes.Select(tp => Fit(tp, 1)).ToArray();
        var notes = new List<string>(model.Notes);
        var chosen = fits.FirstOrDefault(f => f.Fits && f.ValidTensorParallel);
        int pp = 1;
        if (chosen is null)
        {
            var widest = fits.LastOrDefault(f => f.ValidTensorParallel)
                ?? throw new InvalidOperationException($"{model.Source}: no tensor-parallel size up to {o.GpusPerNode} divides the {layout?.AttentionHeads} attention heads");
            int maxStages = layout?.Layers ?? 4096;
            for (pp = 2; pp <= maxStages; pp++)
                if (Fit(widest.TensorParallel, pp) is { Fits: true } staged) { chosen = staged; break; }
            if (chosen is null)
                throw new InvalidOperationException($"{model.Source}: {Gb(weights)} GB of weights do not fit on {o.GpuMemoryGb} GB GPUs even with one layer per pipeline stage");
        }

        int minimum = (int)Ceil(weights, gpuBytes);
        if (model.MaxContext is { } longest && o.Context > longest)
            notes.Add($"a context of {o.Context} tokens exceeds the model's max_position_embeddings ({longest})");
        if (layout is null)
            notes.Add("KV cache unknown: give the layers, KV heads and head dim to count it; the GPU count covers weights and overhead only");
        if (chosen.Gpus > minimum)
            notes.Add(WhyMoreThanMinimum(minimum, chosen, fits, layout, o, gpuBytes, weights, kv ?? 0));
        int nodes = (int)Ceil(chosen.Gpus, o.GpusPerNode);
        if (nodes > 1)
            notes.Add($"multi-node: {chosen.Gpus} GPUs on {nodes} nodes of {o.GpusPerNode} (tensor parallel {chosen.TensorParallel} × pipeline parallel {pp})");
        long replicatedKv = (kv ?? 0) * Replication(layout, chosen.TensorParallel);

        return new DeploymentPlan
        {
            Model = model.Source,
            ModelType = model.ModelType,
            Parameters = parameters,
            ActiveParameters = model.ActiveParameters,
            Experts = model.Experts,
            ExpertsPerToken = model.ExpertsPerToken,
            Components = components,
            Format = format.Name,
            FormatDescription = format.Describe(),
            WeightBytes = weights,
            NominalWeightBytes = parameters * format.Bits / 8,
            Context = o.Context,
            Batch = o.Batch,
            KvFormat = o.KvFormatName,
            KvCacheBytes = kv,
            KvBytesPerToken = perToken,
            Layers = layout?.Layers,
            WindowedLayers = o.CapWindowedLayers ? layout?.WindowedLayers ?? 0 : 0,
            GpuMemoryBytes = gpuBytes,
            GpuMemoryUtilization = o.GpuMemoryUtilization,
            RuntimeReserveBytes = (long)(o.RuntimeReserveGb * 1e9),
            OverheadBytesPerGpu = overheadPerGpu,
            Fits = fits,
            MinimumGpus = minimum,
            TensorParallel = chosen.TensorParallel,
            PipelineParallel = pp,
            Gpus = chosen.Gpus,
            Nodes = nodes,
            OverheadBytes = chosen.Gpus * overheadPerGpu,
            TotalBytes = weights + replicatedKv + chosen.Gpus * overheadPerGpu,
            KvRoomBytes = chosen.KvRoomBytes,
            KvRoomTokens = perToken is > 0 ? chosen.KvRoomBytes / (perToken.Value * Replication(layout, chosen.TensorParallel)) : null,
            VllmCommand = model.Location is { } location
                ? VllmServeCommand.Format(location, chosen.TensorParallel, pp, o.Context, o.KvFormatName, o.GpuMemoryUtilization)
                : null,
            Notes = notes,
        };
    }

    /// <summary>The plan as the table <c>kit plan</c> prints.</summary>
    public string ToText() => PlanText.Format(this);

    // vLLM splits attention by heads: the query heads must divide evenly, and KV heads are either split or,
    // when there are fewer than GPUs, replicated so that each GPU holds one.
    static bool ValidTensorParallel(AttentionLayout? layout, int tp) =>
        layout is null
        || ((layout.AttentionHeads is not { } heads || heads % tp == 0) && (layout.KvHeads % tp == 0 || tp % layout.KvHeads == 0));

    static long Replication(AttentionLayout? layout, int tp) =>
        layout is not null && tp > layout.KvHeads ? tp / layout.KvHeads : 1;

    static string WhyMoreThanMinimum(int minimum, GpuFit chosen, IReadOnlyList<GpuFit> fits, AttentionLayout? layout,
        PlanOptions o, long gpuBytes, long weights, long kv)
    {
        var reasons = new List<string>();
        if (minimum <= o.GpusPerNode && !o.TensorParallelSizes.Contains(minimum))
            reasons.Add($"{minimum} is not a power of two");
        long onMinimum = weights + kv + minimum * chosen.OverheadBytesPerGpu;
        if (onMinimum > minimum * gpuBytes)
            reasons.Add($"on {minimum} GPU{(minimum == 1 ? "" : "s")} weights + KV cache + overhead take {Gb(onMinimum)} of {Gb(minimum * gpuBytes)} GB");
        foreach (var f in fits.Where(f => f.Gpus >= minimum && f.Gpus < chosen.Gpus))
        {
            if (!f.ValidTensorParallel)
                reasons.Add($"tensor parallel {f.TensorParallel} does not split {layout!.AttentionHeads} attention heads and {layout.KvHeads} KV heads evenly");
            else if (f.Gpus > minimum)
                reasons.Add($"on {f.Gpus} GPUs each would need {Gb(f.UsedBytesPerGpu)} of {Gb(gpuBytes)} GB");
        }
        return $"the weights alone fill {minimum} × {o.GpuMemoryGb:0.##} GB GPU{(minimum == 1 ? "" : "s")}, but {chosen.Gpus} are needed" +
            (reasons.Count > 0 ? $": {string.Join("; ", reasons)}" : "");
    }

    static long Ceil(long a, long b) => (a + b - 1) / b;

    internal static string Gb(long bytes) => (bytes / 1e9).ToString("0.00", System.Globalization.CultureInfo.InvariantCulture);
}
