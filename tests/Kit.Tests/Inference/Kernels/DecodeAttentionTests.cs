using Kit.Inference.Kernels;

namespace Kit.Tests.Inference.Kernels;

public sealed unsafe class DecodeAttentionTests
{
    const int Heads = 8, KvHeads = 2, HeadDim = 12;

    static float[] Random(int count, Random random) => Enumerable.Range(0, count).Select(_ => (float)(random.NextDouble() * 4 - 2)).ToArray();

    // Sequences of different cached lengths (0, 1, 5, 40) in buffers with spare room.
    static (float[] Q, float[] K, float[] V, float[][] Keys, float[][] Values, int[] Lengths, int Capacity) Case(int seed)
    {
        var random = new Random(seed);
        int[] lengths = { 5, 0, 40, 1 };
        const int capacity = 48;
        int b = lengths.Length;
        var keys = lengths.Select(_ => Random(KvHeads * capacity * HeadDim, random)).ToArray();
        var values = lengths.Select(_ => Random(KvHeads * capacity * HeadDim, random)).ToArray();
        return (Random(b * Heads * HeadDim, random), Random(b * KvHeads * HeadDim, random), Random(b * KvHeads * HeadDim, random), keys, values, lengths, capacity);
    }

    static float[] Run(float[] q, float[] k, float[] v, float[][] keys, float[][] values, int[] lengths, int capacity, int[] which)
    {
        var y = new float[which.Length * Heads * HeadDim];
        var handles = keys.Concat(values).Select(a => System.Runtime.InteropServices.GCHandle.Alloc(a, System.Runtime.InteropServices.GCHandleType.Pinned)).ToList();
        try
        {
            var caches = which.Select(s => new DecodeAttention.Cache(handles[s].AddrOfPinnedObject(), handles[keys.Length + s].AddrOfPinnedObject(), capacity, lengths[s])).ToArray();
            var qs = which.SelectMany(s => q.Skip(s * Heads * HeadDim).Take(Heads * HeadDim)).ToArray();
            var ks = which.SelectMany(s => k.Skip(s * KvHeads * HeadDim).Take(KvHeads * HeadDim)).ToArray();
            var vs = which.SelectMany(s => v.Skip(s * KvHeads * HeadDim).Take(KvHeads * HeadDim)).ToArray();
            fixed (float* qp = qs, kp = ks, vp = vs, yp = y) DecodeAttention.Step(qp, kp, vp, Heads, KvHeads, HeadDim, caches, yp);
        }
        finally
        {
            foreach (var h in handles) h.Free();
        }
        return y;
    }

    [Fact]
    public void Matches_a_float64_softmax_over_the_cache_and_the_new_token_and_writes_the_cache()
    {
        var (q, k, v, keys, values, lengths, capacity) = Case(1);
        var originalKeys = keys.Select(a => a.ToArray()).ToArray();
        var y = Run(q, k, v, keys, values, lengths, capacity, Enumerable.Range(0, lengths.Length).ToArray());
        for (int s = 0; s < lengths.Length; s++)
        {
            for (int kv = 0; kv < KvHeads; kv++)
                for (int d = 0; d < HeadDim; d++)
                {
                    Assert.Equal(k[(s * KvHeads + kv) * HeadDim + d], keys[s][(kv * capacity + lengths[s]) * HeadDim + d]);
                    Assert.Equal(v[(s * KvHeads + kv) * HeadDim + d], values[s][(kv * capacity + lengths[s]) * HeadDim + d]);
                }
            // Positions before the new one are untouched.
            Assert.Equal(originalKeys[s].Take(lengths[s] * HeadDim), keys[s].Take(lengths[s] * HeadDim));
            for (int h = 0; h < Heads; h++)
            {
                int kv = h / (Heads / KvHeads);
                var scores = Enumerable.Range(0, lengths[s] + 1).Select(j =>
                    Enumerable.Range(0, HeadDim).Sum(d => (double)q[(s * Heads + h) * HeadDim + d] * keys[s][(kv * capacity + j) * HeadDim + d]) / Math.Sqrt(HeadDim)).ToArray();
                double max = scores.Max();
                var weights = scores.Select(x => Math.Exp(x - max)).ToArray();
                double total = weights.Sum();
                for (int d = 0; d < HeadDim; d++)
                {
                    double expected = Enumerable.Range(0, weights.Length).Sum(j => weights[j] / total * values[s][(kv * capacity + j) * HeadDim + d]);
                    Assert.True(Math.Abs(y[(s * Heads + h) * HeadDim + d] - expected) < 1e-5, $"sequence {s} head {h} dim {d}: {y[(s * Heads + h) * HeadDim + d]} vs {expected}");
                }
            }
        }
    }

    [Fact]
    public void A_sequence_gets_the_same_bits_alone_as_in_the_batch()
    {
        var (q, k, v, keys, values, lengths, capacity) = Case(2);
        var together = Run(q, k, v, keys.Select(a => a.ToArray()).ToArray(), values.Select(a => a.ToArray()).ToArray(), lengths, capacity, new[] { 0, 1, 2, 3 });
        for (int s = 0; s < lengths.Length; s++)
        {
            var alone = Run(q, k, v, keys.Select(a => a.ToArray()).ToArray(), values.Select(a => a.ToArray()).ToArray(), lengths, capacity, new[] { s });
            Assert.Equal(alone, together.Skip(s * Heads * HeadDim).Take(Heads * HeadDim).ToArray());
        }
    }

    [Fact]
    public void A_full_cache_and_uneven_heads_are_refused()
    {
        var cache = new DecodeAttention.Cache(0, 0, Capacity: 4, Length: 4);
        var error = Assert.Throws<ArgumentException>(() => DecodeAttention.Step(null, null, null, Heads, KvHeads, HeadDim, new[] { cache }, null));
        Assert.Contains("no room", error.Message);
        Assert.Throws<ArgumentException>(() => DecodeAttention.Step(null, null, null, 6, 4, HeadDim, Array.Empty<DecodeAttention.Cache>(), null));
    }
}
