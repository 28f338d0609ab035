namespace Kit.Inference.Chat;

/// <summary>
/// Cuts streamed text at the first stop sequence with OpenAI's semantics: the text returned never contains the
/// stop sequence, and nothing after it. While the end of the text could still be the start of a stop sequence,
/// that end is held back, so a stream never shows characters it would later have to take back.
/// </summary>
public sealed class StopSequenceFilter
{
    readonly string[] stops;
    string held = "";

    /// <summary>A filter for <paramref name="stopSequences"/> (empty strings are ignored; none means nothing is cut).</summary>
    public StopSequenceFilter(IEnumerable<string>? stopSequences) =>
        stops = (stopSequences ?? []).Where(s => !string.IsNullOrEmpty(s)).Distinct().ToArray();

    /// <summary>Whether a stop sequence has been seen; later pieces are ignored.</summary>
    public bool Stopped { get; private set; }

    /// <summary>Adds decoded text and returns what can be shown now: everything up to a stop sequence or to a possible start of one.</summary>
    public string Push(string piece)
    {
        if (Stopped) return "";
        string text = held + piece;
        int cut = -1;
        foreach (var stop in stops)
        {
            int at = text.IndexOf(stop, StringComparison.Ordinal);
            if (at >= 0 && (cut < 0 || at < cut)) cut = at;
        }
        if (cut >= 0)
        {
            Stopped = true;
            held = "";
            return text[..cut];
        }
        // Any occurrence that ends in a later piece starts inside the longest suffix that is a prefix of a stop sequence.
        int keep = stops.Select(s => LongestSuffixThatStarts(text, s)).DefaultIfEmpty(0).Max();
        held = text[^keep..];
        return text[..^keep];
    }

    /// <summary>The text held back at the end of generation: it did not become a stop sequence, so it is shown.</summary>
    public string Flush()
    {
        string rest = Stopped ? "" : held;
        held = "";
        return rest;
    }

    static int LongestSuffixThatStarts(string text, string stop)
    {
        for (int n = Math.Min(text.Length, stop.Length - 1); n > 0; n--)
            if (text.AsSpan(text.Length - n).SequenceEqual(stop.AsSpan(0, n))) return n;
        return 0;
    }
}
