using Kit.Inference;
using Kit.Models;

namespace Kit.Calibration;

/// <summary>
/// Calibration data a model writes itself: sequences sampled from its own distribution (temperature 1,
/// starting from BOS), as in data-free quantization (LLM-QAT, Liu et al. 2023). It needs no corpus, so
/// compression works offline; a real corpus from the model's domain is still the better choice.
/// </summary>
public static class GeneratedCalibration
{
    /// <summary>The calibration source name that selects this.</summary>
    public const string SourceName = "generated";

    /// <summary>Samples <paramref name="count"/> sequences of exactly <paramref name="length"/> tokens.</summary>
    public static IReadOnlyList<int[]> Sample(LanguageModel lm, int count, int length, long seed)
    {
        if (count < 1 || length < 2) throw new ArgumentException($"generated calibration needs at least 1 sample of 2 tokens, got {count} × {length}");
        if (length > lm.Config.MaxPositionEmbeddings)
            throw new ArgumentException($"sequence length {length} exceeds the model's context of {lm.Config.MaxPositionEmbeddings}");
        int start = lm.Tokenizer.BosId ?? lm.Tokenizer.EosIds.FirstOrDefault();
        var prompts = Enumerable.Range(0, count).Select(_ => (IReadOnlyList<int>)new[] { start }).ToArray();
        var options = new GenerationOptions { MaxNewTokens = length - 1, Temperature = 1.0, Seed = seed, StopOnEos = false };
        var generated = TokenGenerator.Generate(lm.Model, prompts, options, new HashSet<int>());
        return generated.Select(g => new[] { start }.Concat(g.TokenIds).ToArray()).ToArray();
    }
}
