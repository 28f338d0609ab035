namespace Kit.Models.Tokenizers;

/// <summary>
/// How a SentencePiece-style tokenizer.json turns text into '▁'-escaped input: Llama 2's legacy
/// normalizer (<c>Prepend("▁")</c> + <c>Replace(" ", "▁")</c>) or the newer <c>Metaspace</c>
/// pre-tokenizer (<c>prepend_scheme</c> always/first/never, optional split before each '▁').
/// </summary>
/// <param name="Prepend">Whether a dummy '▁' is put before a text segment.</param>
/// <param name="OnlyAtTextStart">Metaspace's "first" scheme: only the segment that begins the input gets it.</param>
/// <param name="EvenIfAlreadyPrefixed">The Prepend normalizer adds '▁' even before a leading space; Metaspace does not.</param>
/// <param name="SplitBeforeMetaspace">Metaspace's <c>split</c>: each '▁' starts a new piece.</param>
internal sealed record MetaspaceRules(bool Prepend, bool OnlyAtTextStart, bool EvenIfAlreadyPrefixed, bool SplitBeforeMetaspace)
{
    /// <summary>SentencePiece's whitespace marker.</summary>
    public const char Metaspace = '\u2581';

    /// <summary>The escaped pieces SentencePiece's BPE sees for one segment of plain text.</summary>
    public IEnumerable<string> Apply(string text, bool atTextStart)
    {
        if (text.Length == 0) yield break;
        var escaped = text.Replace(' ', Metaspace);
        if (Prepend && (atTextStart || !OnlyAtTextStart) && (EvenIfAlreadyPrefixed || escaped[0] != Metaspace))
            escaped = Metaspace + escaped;
        if (!SplitBeforeMetaspace) { yield return escaped; yield break; }
        int start = 0;
        for (int i = 1; i < escaped.Length; i++)
            if (escaped[i] == Metaspace) { yield return escaped[start..i]; start = i; }
        yield return escaped[start..];
    }
}
