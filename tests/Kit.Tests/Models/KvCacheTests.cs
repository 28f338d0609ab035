using Kit.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Kit.Tests.Models;

public sealed class KvCacheTests
{
    [Fact]
    public void Cache_grown_past_its_capacity_returns_every_appended_position_in_order()
    {
        using var cache = new LayerKvCache(capacity: 2);
        var keys = new List<Tensor>();
        var values = new List<Tensor>();
        var capacities = new List<long>();
        long start = 0;
        foreach (int t in new[] { 1, 3, 1, 1, 4 })
        {
            // Distinct numbers at every (batch, head, position, channel), values offset from keys.
            var k = arange(start * 100, (start + t) * 100, ScalarType.Float32).view(t, 2, 2, 25).permute(1, 2, 0, 3);
            keys.Add(k);
            values.Add(k + 0.5f);
            start += t;
            var (allKeys, allValues) = cache.Append(k, values[^1]);
            Assert.True(allKeys.allclose(cat(keys, 2), rtol: 0, atol: 0), $"keys differ after {start} positions");
            Assert.True(allValues.allclose(cat(values, 2), rtol: 0, atol: 0), $"values differ after {start} positions");
            capacities.Add(cache.Capacity);
        }
        Assert.Equal(10, cache.Length);
        // At least the requested 2, then doubled whenever full, or the need when a chunk exceeds the double.
        Assert.Equal(new long[] { 2, 4, 8, 8, 16 }, capacities);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(3)]
    [InlineData(64)]
    public void Decoding_with_any_initial_capacity_equals_full_recomputation(long capacity)
    {
        var config = TinyModels.Mistral();
        using var model = TinyModels.Build(config, TinyModels.RandomWeights(config, seed: 11));
        long[] ids = { 1, 7, 22, 3, 39, 0, 15, 8 };
        using var full = model.Forward(tensor(ids, 1, ids.Length));

        using var cache = new KvCache(config.NumHiddenLayers, capacity);
        var steps = new List<Tensor> { model.Forward(tensor(ids[..2], 1, 2), cache) };
        for (int t = 2; t < ids.Length; t++) steps.Add(model.Forward(tensor(new[] { ids[t] }, 1, 1), cache));
        using var incremental = cat(steps, 1);
        Assert.True(full.allclose(incremental, rtol: 0, atol: 1e-10), $"capacity {capacity}: differs by {(full - incremental).abs().max().item<double>()}");
    }
}
