using Kit.Models.Tokenizers;

namespace Kit.Data;

/// <summary>
/// A source's documents tokenized into one stream: each document as <see cref="CalibrationDocument.Tokenize"/>
/// gives it (so with BOS where the model adds one), followed by the model's first EOS id unless it already ends
/// with an EOS. A Llama stream thus reads <c>BOS doc₁ EOS BOS doc₂ EOS …</c>, as in pre-training.
/// </summary>
public sealed class TokenizedCorpus
{
    readonly int[] _tokens;

    TokenizedCorpus(string source, int[] tokens, IReadOnlyList<DocumentSpan> documents, bool truncated)
    {
        (Source, _tokens, Documents, Truncated) = (source, tokens, documents, truncated);
    }

    /// <summary>The source's description.</summary>
    public string Source { get; }

    /// <summary>The token stream.</summary>
    public ReadOnlyMemory<int> Tokens => _tokens;

    /// <summary>Number of tokens in the stream.</summary>
    public int TokenCount => _tokens.Length;

    /// <summary>Where each document lies in the stream.</summary>
    public IReadOnlyList<DocumentSpan> Documents { get; }

    /// <summary>True when reading stopped at the token budget before the source's end.</summary>
    public bool Truncated { get; }

    /// <summary>One document's tokens.</summary>
    public ReadOnlySpan<int> Document(int index) => _tokens.AsSpan(Documents[index].Start, Documents[index].Length);

    /// <summary>Reads and tokenizes <paramref name="source"/>, stopping after the document that reaches <paramref name="maxTokens"/>.</summary>
    /// <param name="source">The documents.</param>
    /// <param name="tokenizer">The model's tokenizer.</param>
    /// <param name="maxTokens">Stop reading once the stream holds this many tokens; null reads everything.</param>
    /// <param name="chatTemplate">The chat format for chat documents; null uses the tokenizer's own template.</param>
    /// <exception cref="InvalidDataException">The source holds no non-empty document.</exception>
    /// <exception cref="InvalidOperationException">The source holds chats and the tokenizer has no chat template Kit recognises.</exception>
    public static TokenizedCorpus Build(ITextSource source, KitTokenizer tokenizer, long? maxTokens = null, ChatTemplateFamily? chatTemplate = null)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(tokenizer);
        var stream = new List<int>();
        var documents = new List<DocumentSpan>();
        bool truncated = false;
        int? eos = tokenizer.EosIds.Count > 0 ? tokenizer.EosIds[0] : null;
        foreach (var document in source.ReadDocuments())
        {
            if (stream.Count >= maxTokens) { truncated = true; break; }
            var ids = Tokenize(document, tokenizer, chatTemplate, source);
            if (ids.Count == 0) continue;
            documents.Add(new DocumentSpan(stream.Count, ids.Count));
            stream.AddRange(ids);
            if (eos is { } separator && !tokenizer.EosIds.Contains(ids[^1])) stream.Add(separator);
        }
        if (documents.Count == 0) throw new InvalidDataException($"{source.Description} holds no non-empty document");
        return new TokenizedCorpus(source.Description, [.. stream], documents, truncated);
    }

    static IReadOnlyList<int> Tokenize(CalibrationDocument document, KitTokenizer tokenizer, ChatTemplateFamily? chatTemplate, ITextSource source)
    {
        try { return document.Tokenize(tokenizer, chatTemplate); }
        catch (NotSupportedException e) when (document is ChatDocument)
        {
            throw new InvalidOperationException($"{source.Description} holds chats, but {e.Message} (CalibrationOptions.ChatTemplate)", e);
        }
    }
}
