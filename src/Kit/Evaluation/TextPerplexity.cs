using Kit.Models;

namespace Kit.Evaluation;

/// <summary>Perplexity of a language model on a text file or string.</summary>
public static class TextPerplexity
{
    /// <summary>
    /// Tokenizes the whole <paramref name="text"/> once (with the model's BOS) and scores it in windows of
    /// <paramref name="seqLen"/> tokens; see <see cref="Perplexity"/>.
    /// </summary>
    public static PerplexityResult Perplexity(this LanguageModel lm, string text, int seqLen = 256, int? stride = null,
        int? maxWindows = null, IProgress<double>? progress = null)
    {
        var tokens = lm.Tokenizer.Encode(text);
        return Evaluation.Perplexity.Evaluate(lm.Model, tokens, seqLen, stride, maxWindows, progress);
    }

    /// <summary>Perplexity on the text in <paramref name="path"/>.</summary>
    public static PerplexityResult PerplexityOfFile(this LanguageModel lm, string path, int seqLen = 256, int? stride = null,
        int? maxWindows = null, IProgress<double>? progress = null)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"text file not found: {path}", path);
        return lm.Perplexity(File.ReadAllText(path), seqLen, stride, maxWindows, progress);
    }
}
