namespace Kit.Evaluation.Tasks;

/// <summary>What a task asks of the model (lm-evaluation-harness's <c>output_type</c>).</summary>
public enum TaskOutput
{
    /// <summary>Pick the choice with the highest log-likelihood: metrics <c>acc</c> and <c>acc_norm</c>.</summary>
    MultipleChoice,

    /// <summary>Score one continuation: metrics <c>acc</c> (greedy decoding would produce it) and <c>perplexity</c>.</summary>
    Loglikelihood,
}
