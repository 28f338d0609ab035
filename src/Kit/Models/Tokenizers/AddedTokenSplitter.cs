namespace Kit.Models.Tokenizers;

/// <summary>One piece of input text: either plain text for the model, or an added token matched whole.</summary>
/// <param name="Start">Offset of the piece in the original text.</param>
/// <param name="Text">The plain text (empty for a token).</param>
/// <param name="Token">The matched added token, or null for plain text.</param>
internal readonly record struct TextSegment(int Start, string Text, AddedToken? Token);

/// <summary>
/// Splits text at added tokens before the model runs, as Hugging Face does: leftmost match first and,
/// among tokens starting at the same place, the longest.
/// </summary>
internal sealed class AddedTokenSplitter
{
    readonly Dictionary<char, AddedToken[]> _byFirstChar;

    public AddedTokenSplitter(IEnumerable<AddedToken> tokens)
    {
        _byFirstChar = tokens
            .Where(t => t.Content.Length > 0)
            .GroupBy(t => t.Content[0])
            .ToDictionary(g => g.Key, g => g.OrderByDescending(t => t.Content.Length).ToArray());
    }

    public List<TextSegment> Split(string text)
    {
        var segments = new List<TextSegment>();
        int plainStart = 0;
        for (int i = 0; i < text.Length;)
        {
            var match = MatchAt(text, i);
            if (match is null) { i++; continue; }
            if (i > plainStart) segments.Add(new TextSegment(plainStart, text[plainStart..i], null));
            segments.Add(new TextSegment(i, "", match));
            i += match.Content.Length;
            plainStart = i;
        }
        if (plainStart < text.Length) segments.Add(new TextSegment(plainStart, text[plainStart..], null));
        return segments;
    }

    AddedToken? MatchAt(string text, int index)
    {
        if (!_byFirstChar.TryGetValue(text[index], out var candidates)) return null;
        foreach (var token in candidates)
            if (index + token.Content.Length <= text.Length
                && string.CompareOrdinal(text, index, token.Content, 0, token.Content.Length) == 0)
                return token;
        return null;
    }
}
