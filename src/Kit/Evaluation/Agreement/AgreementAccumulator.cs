using Kit.Runtime;
using static TorchSharp.torch;

namespace Kit.Evaluation.Agreement;

/// <summary>
/// Accumulates per-position comparisons of two models' next-token distributions, given as logits: the KL
/// divergence of the candidate from the baseline, KL(P‖Q) = Σ_v P(v) (log P(v) − log Q(v)) with P the baseline
/// (the direction llama.cpp's <c>perplexity --kl-divergence</c> reports), whether the arg-max tokens agree, and
/// each model's log-likelihood of the actual next tokens. Everything is computed in float64.
/// </summary>
public sealed class AgreementAccumulator
{
    double klSum, klSquares, maxKl, agreeing, baselineNll, candidateNll;
    long positions, scoredTargets;

    /// <summary>Positions added so far.</summary>
    public long Positions => positions;

    /// <summary>
    /// Adds the positions of <paramref name="baselineLogits"/> and <paramref name="candidateLogits"/> (both
    /// [positions, vocab], on any device). <paramref name="targets"/> [positions], when given, are the tokens that
    /// actually came next, for the two perplexities.
    /// </summary>
    /// <exception cref="ArgumentException">The shapes differ, or the logits are not two-dimensional.</exception>
    public void Add(Tensor baselineLogits, Tensor candidateLogits, Tensor? targets = null)
    {
        if (baselineLogits.dim() != 2 || !baselineLogits.shape.SequenceEqual(candidateLogits.shape))
            throw new ArgumentException($"logits: expected two [positions, vocab] tensors of one shape, got [{string.Join(", ", baselineLogits.shape)}] and [{string.Join(", ", candidateLogits.shape)}]");
        if (targets is not null && (targets.dim() != 1 || targets.shape[0] != baselineLogits.shape[0]))
            throw new ArgumentException($"targets: expected [{baselineLogits.shape[0]}], got [{string.Join(", ", targets.shape)}]", nameof(targets));
        using var scope = NewDisposeScope();
        var logP = baselineLogits.to_type(ScalarType.Float64).log_softmax(-1);
        var logQ = candidateLogits.to_type(ScalarType.Float64).to(logP.device).log_softmax(-1);
        // exp(log P) · (log P − log Q): a token with P = 0 contributes exactly 0 (no 0 · ∞ from a −∞ log).
        var kl = (logP.exp() * (logP - logQ)).nan_to_num(0).sum(-1).clamp_min(HeldScalars.Of(0));
        klSum += kl.sum().item<double>();
        klSquares += (kl * kl).sum().item<double>();
        maxKl = Math.Max(maxKl, kl.max().item<double>());
        agreeing += logP.argmax(-1).eq(logQ.argmax(-1)).sum().item<long>();
        positions += kl.shape[0];
        if (targets is null) return;
        var index = targets.to(logP.device).to_type(ScalarType.Int64).unsqueeze(-1);
        baselineNll -= logP.gather(-1, index).sum().item<double>();
        candidateNll -= logQ.gather(-1, index).sum().item<double>();
        scoredTargets += targets.shape[0];
    }

    /// <summary>The comparison so far; perplexities are NaN when no targets were given.</summary>
    /// <exception cref="InvalidOperationException">Nothing was added.</exception>
    public AgreementResult Result()
    {
        if (positions == 0) throw new InvalidOperationException("no positions were compared");
        double mean = klSum / positions, top1 = agreeing / positions;
        double klVariance = positions > 1 ? Math.Max(0, (klSquares - positions * mean * mean) / (positions - 1)) : 0;
        // The agreement indicator's sample variance, as lm-evaluation-harness's mean_stderr computes it for acc.
        double top1Variance = positions > 1 ? top1 * (1 - top1) * positions / (positions - 1) : 0;
        return new AgreementResult(mean, Math.Sqrt(klVariance / positions), maxKl, top1, Math.Sqrt(top1Variance / positions), positions,
            scoredTargets == 0 ? double.NaN : Math.Exp(baselineNll / scoredTargets),
            scoredTargets == 0 ? double.NaN : Math.Exp(candidateNll / scoredTargets));
    }
}
