namespace Kit.Evaluation.Agreement;

/// <summary>
/// How closely a candidate model (a compressed variant) predicts the same next tokens as its baseline on one
/// token stream, position by position.
/// </summary>
/// <param name="MeanKl">Mean KL(P_baseline ‖ P_candidate) per position, in nats.</param>
/// <param name="KlStdErr">Standard error of <paramref name="MeanKl"/> (sample standard deviation / √n).</param>
/// <param name="MaxKl">The largest per-position KL divergence.</param>
/// <param name="Top1Agreement">Fraction of positions where both models' most likely next token is the same.</param>
/// <param name="Top1StdErr">Standard error of <paramref name="Top1Agreement"/>.</param>
/// <param name="Positions">Positions compared.</param>
/// <param name="BaselinePerplexity">The baseline's perplexity on the same positions.</param>
/// <param name="CandidatePerplexity">The candidate's perplexity on the same positions.</param>
public sealed record AgreementResult(double MeanKl, double KlStdErr, double MaxKl, double Top1Agreement, double Top1StdErr,
    long Positions, double BaselinePerplexity, double CandidatePerplexity)
{
    /// <summary>Windows of the text compared (<see cref="ModelAgreement"/>; 0 for positions added directly).</summary>
    public int Windows { get; init; }
    /// <summary>Tokens in the compared text (<see cref="ModelAgreement"/>; 0 for positions added directly).</summary>
    public long Tokens { get; init; }

    /// <summary>
    /// The candidate's perplexity on the compared windows, as <see cref="Evaluation.Perplexity"/> reports it: the
    /// same non-overlapping windows and predicted positions, so a separate perplexity pass would repeat this one.
    /// </summary>
    public PerplexityResult AsCandidatePerplexity() =>
        new(CandidatePerplexity, Math.Log(CandidatePerplexity), Positions, Windows, Tokens);
}
