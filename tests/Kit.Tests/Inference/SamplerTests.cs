using Kit.Inference;
using static TorchSharp.torch;

namespace Kit.Tests.Inference;

public sealed class SamplerTests
{
    static Tensor Logits(params double[] probs) => tensor(probs.Select(p => (float)Math.Log(p)).ToArray(), 1, probs.Length);

    static double[] Frequencies(GenerationOptions options, Tensor logits, int draws)
    {
        using var sampler = new Sampler(options, CPU);
        var counts = new double[logits.shape[1]];
        for (int i = 0; i < draws; i++) counts[sampler.Next(logits)[0]]++;
        return counts.Select(c => c / draws).ToArray();
    }

    [Fact]
    public void Temperature_zero_is_argmax()
    {
        using var sampler = new Sampler(new GenerationOptions(), CPU);
        Assert.Equal(new long[] { 2, 0 }, sampler.Next(tensor(new float[] { 0, 1, 5, 2, 9, 1, 1, 1 }, 2, 4)));
    }

    [Fact]
    public void Top_p_keeps_the_smallest_set_reaching_p_and_renormalises()
    {
        // p = 0.7 over {0.5, 0.3, 0.15, 0.05}: {0.5, 0.3} is the smallest set reaching 0.7 → 0.625 / 0.375.
        var freq = Frequencies(new GenerationOptions { Temperature = 1, TopP = 0.7, Seed = 1 }, Logits(0.5, 0.3, 0.15, 0.05), 4000);
        Assert.Equal(0.625, freq[0], 1);
        Assert.InRange(freq[0], 0.59, 0.66);
        Assert.Equal(0, freq[2]);
        Assert.Equal(0, freq[3]);
    }

    [Fact]
    public void Top_k_keeps_k_tokens_and_temperature_sharpens()
    {
        var freq = Frequencies(new GenerationOptions { Temperature = 0.5, TopK = 2, Seed = 2 }, Logits(0.4, 0.1, 0.3, 0.2), 4000);
        // Temperature 0.5 squares the kept probabilities: 0.16 : 0.09 → 0.64 / 0.36.
        Assert.InRange(freq[0], 0.60, 0.68);
        Assert.InRange(freq[2], 0.32, 0.40);
        Assert.Equal(0, freq[1] + freq[3]);
    }

    [Fact]
    public void Same_seed_same_draws()
    {
        var options = new GenerationOptions { Temperature = 1, Seed = 42 };
        var logits = Logits(0.25, 0.25, 0.25, 0.25);
        using var a = new Sampler(options, CPU);
        using var b = new Sampler(options, CPU);
        var drawsA = Enumerable.Range(0, 50).Select(_ => a.Next(logits)[0]).ToArray();
        var drawsB = Enumerable.Range(0, 50).Select(_ => b.Next(logits)[0]).ToArray();
        Assert.Equal(drawsA, drawsB);
        Assert.True(drawsA.Distinct().Count() > 1);
    }

    [Theory]
    [InlineData(-1, 0, 1.0)]
    [InlineData(1, -1, 1.0)]
    [InlineData(1, 0, 0.0)]
    [InlineData(1, 0, 1.5)]
    public void Out_of_range_options_are_rejected(double temperature, int topK, double topP) =>
        Assert.Throws<ArgumentException>(() => new Sampler(new GenerationOptions { Temperature = temperature, TopK = topK, TopP = topP }, CPU));
}
