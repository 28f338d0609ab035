namespace Kit.Evaluation.Tasks;

/// <summary>
/// A request for log P(<see cref="Continuation"/> | <see cref="Context"/>), lm-evaluation-harness's
/// <c>loglikelihood</c> request: the continuation usually starts with the task's target delimiter (" ").
/// </summary>
/// <param name="Context">The text the model reads.</param>
/// <param name="Continuation">The text whose tokens are scored.</param>
public sealed record LoglikelihoodRequest(string Context, string Continuation);

/// <summary>The answer to a <see cref="LoglikelihoodRequest"/>.</summary>
/// <param name="LogProb">Sum over the continuation's tokens of log P(token | everything before it), in nats.</param>
/// <param name="IsGreedy">True when every continuation token is the model's argmax at its position (LAMBADA's accuracy).</param>
public readonly record struct Loglikelihood(double LogProb, bool IsGreedy);
