using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Kit.Inference.Kernels;

/// <summary>
/// One decode step of grouped-query attention for several sequences, each with its own KV cache: the new token's key
/// and value are written into its cache, and its queries attend over every cached position,
/// y = softmax(q·Kᵀ / √head_dim) · V, float32 on the CPU. One call per layer replaces the ten libtorch operations per
/// sequence (views, cache copies, scaled_dot_product_attention) that made attention a serial tenth of a batched step.
/// </summary>
/// <remarks>
/// Every (sequence, head) is computed alike whatever the batch, so a sequence decoded in a batch gets exactly what it
/// gets alone. No mask: one new token sees every cached key (callers keep sliding windows that cut on libtorch's path).
/// </remarks>
public static unsafe class DecodeAttention
{
    /// <summary>One sequence's cache: key and value buffers [kv_heads, capacity, head_dim] and the positions already held.</summary>
    /// <param name="Keys">Address of the key buffer.</param>
    /// <param name="Values">Address of the value buffer.</param>
    /// <param name="Capacity">Positions each buffer holds per head (the new one must fit).</param>
    /// <param name="Length">Positions cached before this step; the new key and value go to position Length.</param>
    public readonly record struct Cache(nint Keys, nint Values, int Capacity, int Length);

    /// <summary>
    /// For sequence s of <paramref name="caches"/>: writes k [s, kv_heads, head_dim] and v into its cache at its
    /// length, then y [s, heads, head_dim] = attention of q [s, heads, head_dim] over positions 0..length. Query head
    /// h reads key/value head h / (heads / kv_heads), as Llama's grouped-query attention does.
    /// </summary>
    /// <exception cref="ArgumentException">Head counts that do not divide, or a cache without room for the new position.</exception>
    public static void Step(float* q, float* k, float* v, int heads, int kvHeads, int headDim, IReadOnlyList<Cache> caches, float* y)
    {
        if (kvHeads <= 0 || heads % kvHeads != 0) throw new ArgumentException($"{heads} query heads do not share {kvHeads} key/value heads evenly", nameof(kvHeads));
        foreach (var c in caches)
            if (c.Length < 0 || c.Length >= c.Capacity) throw new ArgumentException($"a cache of {c.Capacity} positions holding {c.Length} has no room for another", nameof(caches));
        int items = caches.Count * kvHeads;
        long work = caches.Sum(c => (long)(c.Length + 1)) * heads * headDim * 2;
        nint qa = (nint)q, ka = (nint)k, va = (nint)v, ya = (nint)y;
        RowChunks.For(items, work, (start, end) =>
        {
            for (int item = start; item < end; item++)
                Head((float*)qa, (float*)ka, (float*)va, heads, kvHeads, headDim, caches[item / kvHeads], item / kvHeads, item % kvHeads, (float*)ya);
        });
    }

    // Key/value head h of sequence s with its group of query heads.
    static void Head(float* q, float* k, float* v, int heads, int kvHeads, int headDim, Cache cache, int s, int h, float* y)
    {
        int group = heads / kvHeads, positions = cache.Length + 1;
        float* keys = (float*)cache.Keys + (long)h * cache.Capacity * headDim;
        float* values = (float*)cache.Values + (long)h * cache.Capacity * headDim;
        new ReadOnlySpan<float>(k + ((long)s * kvHeads + h) * headDim, headDim).CopyTo(new Span<float>(keys + (long)cache.Length * headDim, headDim));
        new ReadOnlySpan<float>(v + ((long)s * kvHeads + h) * headDim, headDim).CopyTo(new Span<float>(values + (long)cache.Length * headDim, headDim));
        float scale = 1 / MathF.Sqrt(headDim);
        var scores = positions <= 1024 ? stackalloc float[positions] : new float[positions];
        for (int g = 0; g < group; g++)
        {
            long row = (long)s * heads + h * group + g;
            float* qh = q + row * headDim, yh = y + row * headDim;
            float max = float.NegativeInfinity;
            for (int j = 0; j < positions; j++)
            {
                scores[j] = Dot(qh, keys + (long)j * headDim, headDim) * scale;
                max = MathF.Max(max, scores[j]);
            }
            float sum = 0;
            for (int j = 0; j < positions; j++) sum += scores[j] = MathF.Exp(scores[j] - max);
            new Span<float>(yh, headDim).Clear();
            for (int j = 0; j < positions; j++) AddScaled(yh, values + (long)j * headDim, scores[j] / sum, headDim);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static float Dot(float* a, float* b, int n)
    {
        int i = 0;
        var acc = Vector256<float>.Zero;
        for (; i + 8 <= n; i += 8) acc += Vector256.Load(a + i) * Vector256.Load(b + i);
        float sum = Vector256.Sum(acc);
        for (; i < n; i++) sum += a[i] * b[i];
        return sum;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void AddScaled(float* y, float* x, float w, int n)
    {
        int i = 0;
        var weight = Vector256.Create(w);
        for (; i + 8 <= n; i += 8) (Vector256.Load(y + i) + weight * Vector256.Load(x + i)).Store(y + i);
        for (; i < n; i++) y[i] += w * x[i];
    }
}
