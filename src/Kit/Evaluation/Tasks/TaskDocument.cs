namespace Kit.Evaluation.Tasks;

/// <summary>
/// One document of a task: a log-likelihood request per choice (one for LAMBADA), the index of the right one, and
/// the choice texts whose length normalizes <c>acc_norm</c>.
/// </summary>
public sealed record TaskDocument
{
    /// <summary>Creates a document.</summary>
    /// <exception cref="ArgumentException">The counts differ, there are no requests, or <paramref name="gold"/> is out of range.</exception>
    public TaskDocument(IReadOnlyList<LoglikelihoodRequest> requests, int gold, IReadOnlyList<string> choices)
    {
        ArgumentNullException.ThrowIfNull(requests);
        ArgumentNullException.ThrowIfNull(choices);
        if (requests.Count == 0) throw new ArgumentException("a document needs at least one request", nameof(requests));
        if (choices.Count != requests.Count)
            throw new ArgumentException($"{requests.Count} requests but {choices.Count} choices", nameof(choices));
        if (gold < 0 || gold >= requests.Count)
            throw new ArgumentException($"gold index {gold} is outside the {requests.Count} choices", nameof(gold));
        (Requests, Gold, Choices) = (requests, gold, choices);
    }

    /// <summary>
    /// The usual multiple-choice document: one context, and each choice scored as <paramref name="delimiter"/> + choice
    /// (<c>target_delimiter</c> in lm-evaluation-harness, " " by default).
    /// </summary>
    public static TaskDocument MultipleChoice(string context, IReadOnlyList<string> choices, int gold, string delimiter = " ") =>
        new(choices.Select(c => new LoglikelihoodRequest(context, delimiter + c)).ToList(), gold, choices);

    /// <summary>One request per choice.</summary>
    public IReadOnlyList<LoglikelihoodRequest> Requests { get; }

    /// <summary>The index of the right choice.</summary>
    public int Gold { get; }

    /// <summary>
    /// The choice texts as the task config's <c>doc_to_choice</c> gives them, without the target delimiter;
    /// <c>acc_norm</c> divides each log-likelihood by its length.
    /// </summary>
    public IReadOnlyList<string> Choices { get; }
}
