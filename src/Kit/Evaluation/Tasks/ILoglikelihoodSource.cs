namespace Kit.Evaluation.Tasks;

/// <summary>Answers log-likelihood requests; <see cref="ModelLoglikelihood"/> asks a language model.</summary>
public interface ILoglikelihoodSource
{
    /// <summary>Scores every request; the answers are in request order.</summary>
    /// <param name="requests">The requests.</param>
    /// <param name="progress">Receives the fraction of requests scored, 0 to 1.</param>
    IReadOnlyList<Loglikelihood> Score(IReadOnlyList<LoglikelihoodRequest> requests, IProgress<double>? progress = null);
}
