using Kit.Evaluation;
using Kit.Tests.Models;

namespace Kit.Tests.Evaluation;

public sealed class PerplexityTests
{
    static readonly int[] Stream = Enumerable.Range(0, 23).Select(i => (i * 7 + 3) % 40).ToArray();

    // Brute force: every scored token's probability from a fresh float64 reference pass over its window's context.
    static double BruteForceMeanNll(ReferenceTransformer reference, int seqLen, int stride, out long count)
    {
        double nll = 0;
        count = 0;
        for (int begin = 0, prevEnd = 0; begin < Stream.Length; begin += stride)
        {
            int end = Math.Min(begin + seqLen, Stream.Length);
            for (int i = Math.Max(prevEnd, begin + 1); i < end; i++)
            {
                var logits = reference.Forward(Stream[begin..i])[^1];
                double max = logits.Max();
                double logZ = max + Math.Log(logits.Sum(l => Math.Exp(l - max)));
                nll += logZ - logits[Stream[i]];
                count++;
            }
            prevEnd = end;
            if (end == Stream.Length) break;
        }
        return nll / count;
    }

    [Theory]
    [InlineData(8, 8)]
    [InlineData(8, 3)]
    [InlineData(23, 23)]
    public void Windowed_perplexity_equals_brute_force_token_by_token(int seqLen, int stride)
    {
        var config = TinyModels.Llama();
        var weights = TinyModels.RandomWeights(config, seed: 11);
        using var model = TinyModels.Build(config, weights);
        double expected = BruteForceMeanNll(new ReferenceTransformer(config, weights), seqLen, stride, out long count);

        var result = Perplexity.Evaluate(model, Stream, seqLen, stride);
        Assert.Equal(count, result.PredictedTokens);
        Assert.Equal(expected, result.MeanNll, 9);
        Assert.Equal(Math.Exp(expected), result.Value, 9);
    }

    [Fact]
    public void Max_windows_limits_the_scored_tokens()
    {
        var config = TinyModels.Llama();
        using var model = TinyModels.Build(config, TinyModels.RandomWeights(config, seed: 11));
        var result = Perplexity.Evaluate(model, Stream, seqLen: 8, maxWindows: 2);
        Assert.Equal(2, result.Windows);
        Assert.Equal(14, result.PredictedTokens);
    }

    [Theory]
    [InlineData(1, null, null)]
    [InlineData(8, 9, null)]
    [InlineData(8, 0, null)]
    [InlineData(8, null, 0)]
    [InlineData(1000, null, null)]
    public void Bad_settings_are_rejected_with_the_option_named(int seqLen, int? stride, int? maxWindows)
    {
        var config = TinyModels.Llama();
        using var model = TinyModels.Build(config, TinyModels.RandomWeights(config, seed: 1));
        var e = Assert.Throws<ArgumentException>(() => Perplexity.Evaluate(model, Stream, seqLen, stride, maxWindows));
        Assert.Matches("seq-len|stride|max-windows", e.Message);
    }
}
