using static TorchSharp.torch;

namespace Kit.Models;

/// <summary>
/// The keys and values one attention layer has seen so far, [batch, kv_heads, time, head_dim]. They are
/// written into buffers with room to spare, so a decode step copies one position instead of the whole
/// cache; a buffer that fills up is replaced by one twice as long.
/// </summary>
public sealed class LayerKvCache : IDisposable
{
    readonly long initialCapacity;
    Tensor? keys, values;
    long length;

    /// <summary>Creates an empty cache whose first buffers hold at least <paramref name="capacity"/> positions.</summary>
    public LayerKvCache(long capacity = 0) => initialCapacity = capacity;

    /// <summary>Number of cached positions.</summary>
    public long Length => length;

    /// <summary>Positions the current buffers hold before they must grow (0 before the first append).</summary>
    public long Capacity => keys?.shape[2] ?? 0;

    /// <summary>Appends new keys and values and returns views of the whole cached sequence (owned by the caller's scope).</summary>
    public (Tensor Keys, Tensor Values) Append(Tensor k, Tensor v)
    {
        long t = k.shape[2], needed = length + t;
        if (needed > Capacity) Grow(k, v, needed);
        keys!.narrow(2, length, t).copy_(k);
        values!.narrow(2, length, t).copy_(v);
        length = needed;
        return (keys.narrow(2, 0, length), values.narrow(2, 0, length));
    }

    /// <summary>
    /// Makes room for <paramref name="t"/> more positions shaped like <paramref name="like"/> [1, kv_heads, t, head_dim]
    /// and returns the whole buffers [1, kv_heads, capacity, head_dim], for a kernel that writes the new positions
    /// itself; <see cref="Advance"/> then counts them.
    /// </summary>
    internal (Tensor Keys, Tensor Values) Reserve(Tensor like, long t)
    {
        if (length + t > Capacity) Grow(like, like, length + t);
        return (keys!, values!);
    }

    /// <summary>Counts <paramref name="t"/> positions that a kernel wrote into the buffers <see cref="Reserve"/> returned.</summary>
    internal void Advance(long t) => length += t;

    void Grow(Tensor k, Tensor v, long needed)
    {
        long capacity = Math.Max(needed, Math.Max(initialCapacity, 2 * Capacity));
        keys = Regrown(keys, k, capacity);
        values = Regrown(values, v, capacity);
    }

    Tensor Regrown(Tensor? old, Tensor like, long capacity)
    {
        var buffer = empty(new[] { like.shape[0], like.shape[1], capacity, like.shape[3] }, like.dtype, like.device).DetachFromDisposeScope();
        if (old is not null)
        {
            using var kept = buffer.narrow(2, 0, length);
            using var cached = old.narrow(2, 0, length);
            kept.copy_(cached);
            old.Dispose();
        }
        return buffer;
    }

    /// <summary>Frees the cached tensors.</summary>
    public void Dispose()
    {
        keys?.Dispose();
        values?.Dispose();
        keys = values = null;
        length = 0;
    }
}

/// <summary>A KV cache for every layer of a model, plus the attention mask of everything cached.</summary>
public sealed class KvCache : IDisposable
{
    readonly LayerKvCache[] layers;
    Tensor? mask;

    /// <summary>
    /// Creates an empty cache for <paramref name="numLayers"/> layers. <paramref name="capacity"/> is the
    /// number of positions to make room for at once (prompt plus new tokens, when known); the cache grows past it as needed.
    /// </summary>
    public KvCache(int numLayers, long capacity = 0) =>
        layers = Enumerable.Range(0, numLayers).Select(_ => new LayerKvCache(capacity)).ToArray();

    /// <summary>The cache of layer <paramref name="i"/>.</summary>
    public LayerKvCache this[int i] => layers[i];

    /// <summary>Number of cached positions.</summary>
    public long Length => layers[0].Length;

    /// <summary>The padding mask [batch, Length] of the cached positions (1 = real token), or null if none was given.</summary>
    public Tensor? Mask => mask;

    /// <summary>Records the padding mask of all positions after a forward step.</summary>
    internal void SetMask(Tensor fullMask)
    {
        mask?.Dispose();
        mask = fullMask.clone().DetachFromDisposeScope();
    }

    /// <summary>Frees every cached tensor.</summary>
    public void Dispose()
    {
        foreach (var l in layers) l.Dispose();
        mask?.Dispose();
    }
}
