namespace Kit.Planning;

/// <summary>
/// What the KV cache of a decoder holds: per layer, keys and values of <see cref="KvHeads"/> heads of
/// <see cref="HeadDim"/> values for every cached token, or for the last <c>LayerWindows[i]</c> tokens at most
/// on layers with sliding-window or chunked attention.
/// </summary>
/// <param name="AttentionHeads">Query heads, which a tensor-parallel size must divide; null when unknown.</param>
/// <param name="KvHeads">Key/value heads per layer.</param>
/// <param name="HeadDim">Values per head.</param>
/// <param name="LayerWindows">One entry per layer: the most tokens it attends to, or null for the whole context.</param>
public sealed record AttentionLayout(int? AttentionHeads, int KvHeads, int HeadDim, IReadOnlyList<int?> LayerWindows)
{
    /// <summary>Number of decoder layers.</summary>
    public int Layers => LayerWindows.Count;

    /// <summary>Layers whose cache is capped by a window.</summary>
    public int WindowedLayers => LayerWindows.Count(w => w is not null);

    /// <summary>A layout whose layers all attend to the whole context.</summary>
    public static AttentionLayout Uniform(int layers, int kvHeads, int headDim, int? attentionHeads = null)
    {
        if (layers <= 0) throw new ArgumentOutOfRangeException(nameof(layers), layers, "layers must be positive");
        return new AttentionLayout(attentionHeads, kvHeads, headDim, new int?[layers]).Validated();
    }

    /// <summary>Cache bytes of one token at every layer: 2 (key and value) × layers × KV heads × head dim × bytes per value.</summary>
    public long BytesPerToken(double bytesPerValue) => (long)(2.0 * Layers * KvHeads * HeadDim * bytesPerValue);

    /// <summary>
    /// Cache bytes for <paramref name="batch"/> sequences of <paramref name="context"/> tokens:
    /// Σ over layers of 2 × KV heads × head dim × tokens kept × batch × bytes per value, where a windowed layer
    /// keeps min(context, window) tokens unless <paramref name="capWindows"/> is false.
    /// </summary>
    public long Bytes(long context, long batch, double bytesPerValue, bool capWindows = true)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(context);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batch);
        double perTokenPerLayer = 2.0 * KvHeads * HeadDim * bytesPerValue;
        double tokens = LayerWindows.Sum(w => (double)(capWindows && w is { } window ? Math.Min(context, window) : context));
        return (long)(perTokenPerLayer * tokens * batch);
    }

    /// <summary>Throws <see cref="ArgumentException"/> naming the field that is not positive.</summary>
    public AttentionLayout Validated()
    {
        if (KvHeads <= 0) throw new ArgumentException($"AttentionLayout.KvHeads must be positive, got {KvHeads}", nameof(KvHeads));
        if (HeadDim <= 0) throw new ArgumentException($"AttentionLayout.HeadDim must be positive, got {HeadDim}", nameof(HeadDim));
        if (AttentionHeads is <= 0) throw new ArgumentException($"AttentionLayout.AttentionHeads must be positive, got {AttentionHeads}", nameof(AttentionHeads));
        if (LayerWindows.Count == 0 || LayerWindows.Any(w => w is <= 0))
            throw new ArgumentException("AttentionLayout.LayerWindows needs one entry per layer, each null or positive", nameof(LayerWindows));
        return this;
    }
}
