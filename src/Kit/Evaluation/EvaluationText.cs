using Kit.Data;

namespace Kit.Evaluation;

/// <summary>The text that perplexity and agreement are measured on.</summary>
public static class EvaluationText
{
    /// <summary>
    /// WikiText-2 (raw) test split from the hub, the text the GPTQ and SparseGPT papers and llm-compressor's
    /// examples report perplexity on.
    /// </summary>
    public const string DefaultSpec = "Salesforce/wikitext:wikitext-2-raw-v1:test";

    /// <summary>
    /// Reads <paramref name="spec"/>: a <c>.txt</c> file as it is, or any other source
    /// <see cref="CalibrationSource.Open"/> accepts (JSON Lines, Parquet, a folder, a hub dataset split) as its
    /// text documents joined by a blank line, as the GPTQ reference joins WikiText's rows (<c>"\n\n".join</c>).
    /// </summary>
    /// <exception cref="InvalidDataException">The source holds no text (or only chats).</exception>
    public static string Load(string spec, SourceOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(spec);
        if (File.Exists(spec) && spec.EndsWith(".txt", StringComparison.OrdinalIgnoreCase)) return File.ReadAllText(spec);
        var source = CalibrationSource.Open(spec, options);
        var text = string.Join("\n\n", source.ReadDocuments().OfType<TextDocument>().Select(d => d.Text));
        return text.Length > 0 ? text : throw new InvalidDataException($"{source.Description}: no text documents to evaluate on");
    }
}
