using Kit.Evaluation;
using Kit.Models;
using Kit.Models.Safetensors;
using Kit.Models.Tokenizers;
using static TorchSharp.torch;

namespace Kit.Tests.Evaluation;

public sealed class ActivationProfileTests
{
    [Fact]
    public void Layer_zeros_query_inputs_are_the_normed_embeddings_of_the_text()
    {
        string text = File.ReadAllText(TestPaths.TinyStoriesText)[..3000];
        var profile = ActivationProfile.Measure(TestPaths.Stories260K, "model.layers.0.self_attn.q_proj", text, seqLen: 64, windows: 3);

        // Independently: RMSNorm(E[ids]) · g in float64 over the same 3 × 64 tokens, channel by channel.
        var config = ModelConfig.Load(Path.Combine(TestPaths.Stories260K, "config.json"));
        var ids = TokenizerLoader.FromFolder(TestPaths.Stories260K).Encode(text).Take(3 * 64).Select(t => (long)t).ToArray();
        using var checkpoint = SafetensorsCheckpoint.Open(TestPaths.Stories260K);
        using var e = checkpoint.Load("model.embed_tokens.weight", ScalarType.Float64);
        using var g = checkpoint.Load("model.layers.0.input_layernorm.weight", ScalarType.Float64);
        using var x = e.index_select(0, tensor(ids));
        using var normed = x / (x.square().mean(new long[] { 1 }, keepdim: true) + config.RmsNormEps).sqrt() * g;
        var expected = normed.abs().amax(new long[] { 0 }).data<double>().ToArray();

        Assert.Equal(64, profile.MaxAbs.Length);
        for (int c = 0; c < 64; c++) Assert.Equal(expected[c], profile.MaxAbs[c], expected[c] * 1e-5);
        var sorted = expected.Order().ToArray();
        Assert.Equal(sorted[^1] / ((sorted[31] + sorted[32]) / 2), profile.OutlierRatio, 1e-4);
    }

    [Fact]
    public void An_unknown_module_is_named_in_the_error()
    {
        var error = Assert.Throws<ArgumentException>(() => ActivationProfile.Measure(TestPaths.Stories260K, "model.layers.9.mlp.up_proj", "Once upon a time"));
        Assert.Contains("no Linear 'model.layers.9.mlp.up_proj'", error.Message);
    }

    [Fact]
    public void Variant_recovery_divides_by_the_uncompressed_model_and_measures_the_gap_to_the_named_naive_variant()
    {
        var recipe = new Kit.Quantization.CompressionRecipe();
        VariantResult V(string name, double ppl, bool compressed = true) => new(name, compressed ? recipe : null, ppl, 0, 0, 1, "");
        var variants = new[] { V("dense", 4, compressed: false), V("RTN W4", 5), V("GPTQ W4", 4.5), V("RTN W3", 12), V("GPTQ W3", 6) };
        var rows = AccuracyRecovery.OfVariants(variants, name => name.EndsWith("W4") ? "RTN W4" : "RTN W3");
        Assert.Equal([1, 0.8, 4 / 4.5, 4 / 12.0, 4 / 6.0], rows.Select(r => r.Recovery));
        Assert.Equal(new double?[] { null, 0, 0.5, 0, 0.75 }, rows.Select(r => r.GapRecovered));
        Assert.Contains("no variant called 'RTN W2'", Assert.Throws<ArgumentException>(() => AccuracyRecovery.OfVariants(variants, _ => "RTN W2")).Message);
    }
}
