namespace Kit.Benchmarks;

/// <summary>
/// Speed of repeated generation runs, each a prefill of the prompt followed by decode steps, the same for Kit
/// and for llama.cpp so that the two compare field by field.
/// </summary>
/// <param name="TimeToFirstTokenMs">From the start of a run to the first generated token: the prefill.</param>
/// <param name="DecodeTokensPerSecond">Tokens per second of one sequence after the first token.</param>
/// <param name="BatchDecodeTokensPerSecond">The same summed over the batch.</param>
/// <param name="EndToEndTokensPerSecond">Generated tokens of the whole batch over the whole run, prefill included.</param>
public sealed record DecodeTimings(Spread TimeToFirstTokenMs, Spread DecodeTokensPerSecond, Spread BatchDecodeTokensPerSecond,
    Spread EndToEndTokensPerSecond)
{
    /// <summary>
    /// Timings from runs at batch <paramref name="batch"/> that each generated <paramref name="newTokens"/> tokens
    /// per sequence, the first after <c>firstMs</c> and the last after <c>totalMs</c>.
    /// </summary>
    public static DecodeTimings FromRuns(IReadOnlyList<(double FirstMs, double TotalMs)> runs, int batch, int newTokens)
    {
        if (runs.Count == 0) throw new ArgumentException("timings need at least one run", nameof(runs));
        if (newTokens < 2) throw new ArgumentOutOfRangeException(nameof(newTokens), newTokens, "decode speed needs at least 2 new tokens");
        if (runs.Any(r => r.FirstMs <= 0 || r.TotalMs <= r.FirstMs))
            throw new ArgumentException("every run needs 0 < first-token time < total time", nameof(runs));
        var perSequence = runs.Select(r => (newTokens - 1) / ((r.TotalMs - r.FirstMs) / 1000)).ToArray();
        return new DecodeTimings(
            Spread.Of(runs.Select(r => r.FirstMs)),
            Spread.Of(perSequence),
            Spread.Of(perSequence.Select(t => t * batch)),
            Spread.Of(runs.Select(r => batch * (double)newTokens / (r.TotalMs / 1000))));
    }
}
