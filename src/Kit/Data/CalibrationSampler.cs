using Kit.Models.Tokenizers;

namespace Kit.Data;

/// <summary>Draws reproducible calibration samples of exactly L tokens from a tokenized corpus.</summary>
public static class CalibrationSampler
{
    /// <summary>Tokenizes <paramref name="source"/> up to <see cref="CalibrationOptions.CorpusTokenBudget"/> and samples it.</summary>
    /// <exception cref="InvalidOperationException">The corpus is too small for N samples of L tokens; the message says how many tokens or documents it has.</exception>
    public static CalibrationSet Sample(ITextSource source, KitTokenizer tokenizer, CalibrationOptions options) =>
        Sample(TokenizedCorpus.Build(source, tokenizer, options.CorpusTokenBudget, options.ChatTemplate), options);

    /// <summary>Draws <see cref="CalibrationOptions.NumSamples"/> samples as <see cref="CalibrationOptions.Packing"/> says, in random order.</summary>
    /// <exception cref="InvalidOperationException">The corpus is too small for N samples of L tokens; the message says how many tokens or documents it has.</exception>
    public static CalibrationSet Sample(TokenizedCorpus corpus, CalibrationOptions options)
    {
        ArgumentNullException.ThrowIfNull(corpus);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.NumSamples, 1, nameof(options.NumSamples));
        ArgumentOutOfRangeException.ThrowIfLessThan(options.SequenceLength, 1, nameof(options.SequenceLength));
        var random = new Random(options.Seed);
        int[][] samples = options.Packing == CalibrationPacking.Windows
            ? Windows(corpus, options.NumSamples, options.SequenceLength, random)
            : DocumentHeads(corpus, options.NumSamples, options.SequenceLength, random);
        return new CalibrationSet(samples, options.SequenceLength, corpus.Source, corpus.TokenCount);
    }

    /// <summary>
    /// N windows placed uniformly among all non-overlapping placements: with slack S = T − N·L, choose N distinct
    /// c from [0, S + N) (stars and bars); sorted, window i starts at c_i + i·(L − 1).
    /// </summary>
    static int[][] Windows(TokenizedCorpus corpus, int count, int length, Random random)
    {
        long needed = (long)count * length;
        if (needed > corpus.TokenCount)
            throw new InvalidOperationException(
                $"{corpus.Source} holds {corpus.TokenCount:N0} tokens{(corpus.Truncated ? " (read up to the token budget)" : "")}, fewer than the "
                + $"{count} × {length} = {needed:N0} that {count} non-overlapping windows of {length} need; lower NumSamples or SequenceLength "
                + "(CalibrationOptions.FitTo does this)");
        long range = corpus.TokenCount - needed + count;
        var chosen = new HashSet<long>(count);
        // Floyd's algorithm: exactly `count` draws for `count` distinct values, however large the range.
        for (long j = range - count; j < range; j++)
            if (!chosen.Add(random.NextInt64(j + 1))) chosen.Add(j);
        long[] starts = chosen.Order().Select((c, i) => c + (long)i * (length - 1)).ToArray();
        Shuffle(starts, random);
        return starts.Select(s => corpus.Tokens.Slice((int)s, length).ToArray()).ToArray();
    }

    static int[][] DocumentHeads(TokenizedCorpus corpus, int count, int length, Random random)
    {
        int[] eligible = Enumerable.Range(0, corpus.Documents.Count).Where(i => corpus.Documents[i].Length >= length).ToArray();
        if (eligible.Length < count)
            throw new InvalidOperationException(
                $"only {eligible.Length} of the {corpus.Documents.Count} documents of {corpus.Source} have at least {length} tokens, "
                + $"and Documents packing drops shorter ones, so it cannot make {count} samples; use Windows packing, or lower NumSamples "
                + "or SequenceLength (CalibrationOptions.FitTo does this)");
        Shuffle(eligible, random);
        return eligible.Take(count).Select(i => corpus.Document(i)[..length].ToArray()).ToArray();
    }

    static void Shuffle<T>(T[] items, Random random)
    {
        for (int i = items.Length - 1; i > 0; i--)
        {
            int j = random.Next(i + 1);
            (items[i], items[j]) = (items[j], items[i]);
        }
    }
}
