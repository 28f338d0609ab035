using Kit.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Kit.Tests.Models;

public sealed class CausalLMTests
{
    static readonly int[] Ids = { 1, 7, 22, 3, 39, 0, 15, 8, 30, 2 };

    [Theory]
    [MemberData(nameof(TinyModels.All), MemberType = typeof(TinyModels))]
    public void Float64_logits_match_the_independent_reference(string arch)
    {
        var config = TinyModels.ByName(arch);
        var weights = TinyModels.RandomWeights(config, seed: 3);
        var expected = new ReferenceTransformer(config, weights).Forward(Ids);
        using var model = TinyModels.Build(config, weights);
        using var logits = model.Forward(tensor(Ids.Select(i => (long)i).ToArray(), 1, Ids.Length));
        Assert.Equal(new long[] { 1, Ids.Length, config.VocabSize }, logits.shape);
        var actual = logits.data<double>().ToArray();
        double maxErr = 0;
        for (int t = 0; t < Ids.Length; t++)
            for (int v = 0; v < config.VocabSize; v++)
                maxErr = Math.Max(maxErr, Math.Abs(actual[t * config.VocabSize + v] - expected[t][v]));
        Assert.True(maxErr < 1e-10, $"{arch}: max |Δlogit| = {maxErr}");
    }

    [Theory]
    [MemberData(nameof(TinyModels.All), MemberType = typeof(TinyModels))]
    public void Kv_cache_decoding_equals_full_recomputation(string arch)
    {
        var config = TinyModels.ByName(arch);
        using var model = TinyModels.Build(config, TinyModels.RandomWeights(config, seed: 5));
        var ids = tensor(Ids.Select(i => (long)i).ToArray(), 1, Ids.Length);
        using var full = model.Forward(ids);

        using var cache = new KvCache(config.NumHiddenLayers);
        var steps = new List<Tensor> { model.Forward(ids[.., ..4], cache) };
        for (int t = 4; t < Ids.Length; t++) steps.Add(model.Forward(ids[.., t..(t + 1)], cache));
        using var incremental = cat(steps, 1);
        Assert.Equal(Ids.Length, cache.Length);
        Assert.True(full.allclose(incremental, rtol: 0, atol: 1e-10), $"{arch}: cached decode differs by {(full - incremental).abs().max().item<double>()}");
    }

    [Fact]
    public void Left_padded_batch_equals_each_prompt_alone()
    {
        var config = TinyModels.Llama();
        using var model = TinyModels.Build(config, TinyModels.RandomWeights(config, seed: 9));
        long[] a = { 1, 5, 9, 13, 17 }, b = { 1, 6, 10 };
        using var aloneA = model.Forward(tensor(a, 1, a.Length));
        using var aloneB = model.Forward(tensor(b, 1, b.Length));
        var batch = tensor(new long[] { 1, 5, 9, 13, 17, 0, 0, 1, 6, 10 }, 2, 5);
        var mask = tensor(new long[] { 1, 1, 1, 1, 1, 0, 0, 1, 1, 1 }, 2, 5);
        using var cache = new KvCache(config.NumHiddenLayers);
        using var both = model.Forward(batch, cache, mask);
        Assert.True(both[0].allclose(aloneA[0], atol: 1e-10));
        Assert.True(both[1, 2..].allclose(aloneB[0], atol: 1e-10));

        // One more decode step on the padded batch continues each prompt at its own position.
        using var nextBoth = model.Forward(tensor(new long[] { 21, 22 }, 2, 1), cache, ones(2, 1, ScalarType.Int64));
        using var nextA = model.Forward(tensor(new long[] { 1, 5, 9, 13, 17, 21 }, 1, 6));
        using var nextB = model.Forward(tensor(new long[] { 1, 6, 10, 22 }, 1, 4));
        Assert.True(nextBoth[0, 0].allclose(nextA[0, -1], atol: 1e-10));
        Assert.True(nextBoth[1, 0].allclose(nextB[0, -1], atol: 1e-10));
    }

    [Theory]
    [MemberData(nameof(TinyModels.All), MemberType = typeof(TinyModels))]
    public void Right_padded_prefill_with_own_caches_equals_each_prompt_alone_and_caches_only_its_tokens(string arch)
    {
        // Mistral's window of 3 cuts the longer prompt, so the per-length masks are exercised too.
        var config = TinyModels.ByName(arch);
        using var model = TinyModels.Build(config, TinyModels.RandomWeights(config, seed: 12));
        long[] a = { 1, 5, 9, 13, 17 }, b = { 2, 6 };
        using var aloneA = model.Forward(tensor(a, 1, a.Length));
        using var aloneB = model.Forward(tensor(b, 1, b.Length));
        using var cacheA = new KvCache(config.NumHiddenLayers);
        using var cacheB = new KvCache(config.NumHiddenLayers);
        // b padded with tokens that would change its logits if they were attended to.
        var batch = tensor(new long[] { 1, 5, 9, 13, 17, 2, 6, 30, 31, 32 }, 2, 5);
        using var last = model.Forward(batch, new[] { cacheA, cacheB }, lastOnly: true, newTokens: new long[] { 5, 2 });
        Assert.Equal(new long[] { 2, 1, config.VocabSize }, last.shape);
        Assert.True(last[0, 0].allclose(aloneA[0, -1], rtol: 0, atol: 1e-10));
        Assert.True(last[1, 0].allclose(aloneB[0, -1], rtol: 0, atol: 1e-10));
        Assert.Equal(new long[] { 5, 2 }, new[] { cacheA.Length, cacheB.Length });

        // The next token of each continues from its own cache as if the other had never been there.
        using var next = model.Forward(tensor(new long[] { 21, 22 }, 2, 1), new[] { cacheA, cacheB });
        using var nextB = model.Forward(tensor(new long[] { 2, 6, 22 }, 1, 3));
        Assert.True(next[1, 0].allclose(nextB[0, -1], rtol: 0, atol: 1e-10));
    }

    [Fact]
    public void Llama3_rope_scaling_changes_only_long_wavelengths()
    {
        var plain = RotaryEmbedding.InverseFrequencies(TinyModels.Llama());
        var scaled = RotaryEmbedding.InverseFrequencies(TinyModels.Llama3Scaled());
        // original context 16, low/high factors 1 and 4: wavelengths under 4 are kept, over 16 divided by 8.
        for (int i = 0; i < plain.Length; i++)
        {
            double wl = 2 * Math.PI / plain[i];
            if (wl < 4) Assert.Equal(plain[i], scaled[i], 15);
            else if (wl > 16) Assert.Equal(plain[i] / 8, scaled[i], 15);
            else Assert.InRange(scaled[i], plain[i] / 8, plain[i]);
        }
    }

    [Fact]
    public void Tied_model_holds_one_embedding_matrix()
    {
        var tied = TinyModels.Llama(tied: true);
        using var model = new CausalLM(tied);
        long embed = (long)tied.VocabSize * tied.HiddenSize * 4;
        Assert.Equal(tied.ParameterCount * 4, model.WeightBytes);
        using var untied = new CausalLM(TinyModels.Llama());
        Assert.Equal(model.WeightBytes + embed, untied.WeightBytes);
    }
}
