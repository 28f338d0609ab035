namespace Kit.Serving;

/// <summary>
/// OpenAI's stop-string semantics over streamed text: the text handed out never contains a stop string, and
/// text that could still become the start of one is held back until the next token settles it.
/// </summary>
public sealed class StopStrings
{
    readonly IReadOnlyList<string> stops;
    readonly System.Text.StringBuilder text = new();
    int emitted;

    /// <summary>Watches for <paramref name="stops"/> (none: every text is released at once).</summary>
    /// <exception cref="ArgumentException">A stop string is empty.</exception>
    public StopStrings(IReadOnlyList<string> stops)
    {
        if (stops.Any(string.IsNullOrEmpty)) throw new ArgumentException("stop strings must not be empty");
        this.stops = stops;
    }

    /// <summary>Whether a stop string has been seen; nothing more is released after it.</summary>
    public bool Stopped { get; private set; }

    /// <summary>
    /// Adds generated text and returns what may be released now: up to the first stop string (and
    /// <see cref="Stopped"/> is set), or up to the earliest suffix that is a prefix of some stop string.
    /// </summary>
    public string Push(string piece)
    {
        if (Stopped) return "";
        text.Append(piece);
        string all = text.ToString();
        // A stop string cannot start before `emitted`: a suffix that might begin one is never released.
        int hit = -1;
        foreach (var s in stops)
        {
            int at = all.IndexOf(s, emitted, StringComparison.Ordinal);
            if (at >= 0 && (hit < 0 || at < hit)) hit = at;
        }
        if (hit >= 0)
        {
            Stopped = true;
            return Release(all, hit);
        }
        int keep = all.Length;
        for (int p = emitted; p < all.Length; p++)
            if (stops.Any(s => s.Length > all.Length - p && s.AsSpan().StartsWith(all.AsSpan(p))))
            {
                keep = p;
                break;
            }
        return Release(all, keep);
    }

    /// <summary>Releases the held-back text at the end of generation (it did not become a stop string).</summary>
    public string Flush() => Stopped ? "" : Release(text.ToString(), text.Length);

    string Release(string all, int upTo)
    {
        string released = all[emitted..upTo];
        emitted = upTo;
        return released;
    }
}
