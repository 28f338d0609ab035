using Kit.Models;

namespace Kit.Inference;

/// <summary>Text in, text out: tokenizes prompts, generates, and streams decoded text.</summary>
public static class TextGeneration
{
    /// <summary>
    /// Continues <paramref name="prompt"/>. <paramref name="onToken"/> receives each token with the text it
    /// completes as soon as it is produced (for streaming to a console or notebook).
    /// </summary>
    public static GenerationResult Generate(this LanguageModel lm, string prompt, GenerationOptions? options = null,
        Action<GeneratedToken>? onToken = null) => lm.Generate(new[] { prompt }, options, onToken)[0];

    /// <summary>Continues every prompt in one batch, each prompt with its own KV cache (<see cref="BatchDecoder"/>).</summary>
    public static IReadOnlyList<GenerationResult> Generate(this LanguageModel lm, IReadOnlyList<string> prompts,
        GenerationOptions? options = null, Action<GeneratedToken>? onToken = null)
    {
        options ??= new GenerationOptions();
        var tok = lm.Tokenizer;
        var encoded = prompts.Select(p => tok.Encode(p)).ToArray();
        if (encoded.Any(e => e.Count == 0))
            throw new ArgumentException("an empty prompt needs a BOS token, and this tokenizer adds none; give some text");
        var stops = (options.StopTokenIds ?? tok.EosIds).ToHashSet();
        var decoders = prompts.Select(_ => tok.CreateStreamingDecoder()).ToArray();
        var texts = prompts.Select(_ => new System.Text.StringBuilder()).ToArray();
        var ids = TokenGenerator.Generate(lm.Model, encoded, options, stops, (s, id) =>
        {
            string piece = decoders[s].Push(id);
            texts[s].Append(piece);
            onToken?.Invoke(new GeneratedToken(s, id, piece));
        });
        return ids.Select((g, s) =>
        {
            texts[s].Append(decoders[s].Flush());
            return new GenerationResult(texts[s].ToString(), g.TokenIds, encoded[s].Count, g.TimeToFirstTokenMs, g.TokensPerSecond, g.StopReason);
        }).ToArray();
    }
}
