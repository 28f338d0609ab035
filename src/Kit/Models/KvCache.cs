using static TorchSharp.torch;

namespace Kit.Models;

/// <summary>The keys and values one attention layer has seen so far, [batch, kv_heads, time, head_dim].</summary>
public sealed class LayerKvCache : IDisposable
{
    Tensor? keys, values;

    /// <summary>Number of cached positions.</summary>
    public long Length => keys?.shape[2] ?? 0;

    /// <summary>Appends new keys and values and returns the whole cached sequence (owned by the caller's scope).</summary>
    public (Tensor Keys, Tensor Values) Append(Tensor k, Tensor v)
    {
        var newKeys = keys is null ? k.clone() : cat(new[] { keys, k }, 2);
        var newValues = values is null ? v.clone() : cat(new[] { values, v }, 2);
        keys?.Dispose();
        values?.Dispose();
        keys = newKeys.DetachFromDisposeScope();
        values = newValues.DetachFromDisposeScope();
        return (keys.alias(), values.alias());
    }

    /// <summary>Frees the cached tensors.</summary>
    public void Dispose()
    {
        keys?.Dispose();
        values?.Dispose();
        keys = values = null;
    }
}

/// <summary>A KV cache for every layer of a model, plus the attention mask of everything cached.</summary>
public sealed class KvCache : IDisposable
{
    readonly LayerKvCache[] layers;
    Tensor? mask;

    /// <summary>Creates an empty cache for <paramref name="numLayers"/> layers.</summary>
    public KvCache(int numLayers) => layers = Enumerable.Range(0, numLayers).Select(_ => new LayerKvCache()).ToArray();

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
