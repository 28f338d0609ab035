using Kit.Models;
using static TorchSharp.torch;

namespace Kit.Evaluation.Agreement;

/// <summary>
/// Runs a baseline and a candidate model over the same text in the same non-overlapping windows and compares
/// their next-token distributions at every predicted position (<see cref="AgreementAccumulator"/>).
/// </summary>
public static class ModelAgreement
{
    /// <summary>
    /// Tokenizes <paramref name="text"/> once with the baseline's tokenizer and compares the two models on
    /// windows of <paramref name="seqLen"/> tokens (at most <paramref name="maxWindows"/>).
    /// </summary>
    /// <exception cref="ArgumentException">The models do not share a vocabulary (different sizes, or the candidate's
    /// tokenizer encodes the text differently), or the text is too short.</exception>
    public static AgreementResult Measure(LanguageModel baseline, LanguageModel candidate, string text, int seqLen = 256,
        int? maxWindows = null, IProgress<double>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(baseline);
        ArgumentNullException.ThrowIfNull(candidate);
        if (baseline.Config.VocabSize != candidate.Config.VocabSize)
            throw new ArgumentException($"baseline ({baseline.Source}) has a vocabulary of {baseline.Config.VocabSize} tokens, candidate ({candidate.Source}) {candidate.Config.VocabSize}: their distributions cannot be compared");
        var tokens = baseline.Tokenizer.Encode(text);
        if (!tokens.SequenceEqual(candidate.Tokenizer.Encode(text)))
            throw new ArgumentException($"the tokenizers of {baseline.Source} and {candidate.Source} encode the text differently: their distributions cannot be compared position by position");
        int window = Math.Min(seqLen, Math.Min(baseline.Config.MaxPositionEmbeddings, candidate.Config.MaxPositionEmbeddings));
        if (window < 2) throw new ArgumentException($"seq-len must be at least 2, got {seqLen}");
        if (tokens.Count < 2) throw new ArgumentException($"the text has {tokens.Count} token(s); comparing needs at least 2");

        int windows = (tokens.Count - 1 + window - 1) / window;
        if (maxWindows is int most) windows = Math.Min(windows, Math.Max(1, most));
        var accumulator = new AgreementAccumulator();
        int compared = 0;
        using var _ = no_grad();
        for (int w = 0; w < windows; w++)
        {
            int begin = w * window, length = Math.Min(window, tokens.Count - begin);
            if (length < 2) break;
            compared++;
            using var scope = NewDisposeScope();
            var ids = tensor(tokens.Skip(begin).Take(length).Select(i => (long)i).ToArray(), 1, length);
            var p = baseline.Model.Forward(ids)[0, ..^1];
            var q = candidate.Model.Forward(ids)[0, ..^1];
            accumulator.Add(p, q, ids[0, 1..]);
            progress?.Report((w + 1) / (double)windows);
        }
        return accumulator.Result() with { Windows = compared, Tokens = tokens.Count };
    }
}
