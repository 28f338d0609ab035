using Kit.Models;
using static TorchSharp.torch;

namespace Kit.Evaluation;

/// <summary>Perplexity of a model on a token stream.</summary>
/// <param name="Value">exp(mean negative log-likelihood per predicted token).</param>
/// <param name="MeanNll">Mean negative log-likelihood per predicted token, in nats.</param>
/// <param name="PredictedTokens">Tokens whose likelihood was scored.</param>
/// <param name="Windows">Number of model windows evaluated.</param>
/// <param name="Tokens">Tokens in the evaluated stream.</param>
public sealed record PerplexityResult(double Value, double MeanNll, long PredictedTokens, int Windows, long Tokens);

/// <summary>
/// Perplexity the standard way (Hugging Face's "perplexity of fixed-length models"): the whole text is
/// tokenized once and scored in windows of <c>seqLen</c> tokens that start every <c>stride</c> tokens;
/// each window scores only the tokens the previous window did not, using the overlap as context.
/// <c>stride == seqLen</c> gives the non-overlapping windows of the GPTQ paper.
/// </summary>
public static class Perplexity
{
    /// <summary>Scores <paramref name="tokens"/>; <paramref name="maxWindows"/> limits the work for quick runs.</summary>
    public static PerplexityResult Evaluate(CausalLM model, IReadOnlyList<int> tokens, int seqLen, int? stride = null,
        int? maxWindows = null, IProgress<double>? progress = null)
    {
        int step = stride ?? seqLen;
        if (seqLen < 2) throw new ArgumentException($"seq-len must be at least 2, got {seqLen}");
        if (seqLen > model.Config.MaxPositionEmbeddings)
            throw new ArgumentException($"seq-len {seqLen} exceeds the model's context of {model.Config.MaxPositionEmbeddings}");
        if (step < 1 || step > seqLen) throw new ArgumentException($"stride must be in [1, seq-len], got {step}");
        if (maxWindows is < 1) throw new ArgumentException($"max-windows must be ≥ 1, got {maxWindows}");
        if (tokens.Count < 2) throw new ArgumentException($"the text has {tokens.Count} token(s); perplexity needs at least 2");

        var windows = new List<(int Begin, int End, int Scored)>();
        for (int begin = 0, prevEnd = 0; begin < tokens.Count; begin += step)
        {
            int end = Math.Min(begin + seqLen, tokens.Count);
            // The first token of the stream has no context, so it is never scored.
            int scored = Math.Min(end - prevEnd, end - begin - 1);
            if (scored > 0) windows.Add((begin, end, scored));
            prevEnd = end;
            if (end == tokens.Count || windows.Count == maxWindows) break;
        }

        double nll = 0;
        long predicted = 0;
        using var _ = no_grad();
        for (int w = 0; w < windows.Count; w++)
        {
            var (begin, end, scored) = windows[w];
            using var scope = NewDisposeScope();
            var ids = tensor(tokens.Skip(begin).Take(end - begin).Select(i => (long)i).ToArray(), 1, end - begin);
            var logits = model.Forward(ids)[0].to_type(ScalarType.Float64);              // [T, V]
            var logProbs = logits[..^1].log_softmax(-1);                                    // predicts ids[1..]
            var targets = ids[0, 1..].to(model.Device).unsqueeze(-1);
            var tokenNll = -logProbs.gather(-1, targets).squeeze(-1);                        // [T-1]
            nll += tokenNll[^scored..].sum().item<double>();
            predicted += scored;
            progress?.Report((w + 1) / (double)windows.Count);
        }
        double mean = nll / predicted;
        return new PerplexityResult(Math.Exp(mean), mean, predicted, windows.Count, tokens.Count);
    }
}
