namespace Kit.Evaluation.Tasks;

/// <summary>A task ready to score: its name, what it asks, its metrics and its documents.</summary>
public sealed class EvaluationTask
{
    readonly Func<IEnumerable<TaskDocument>> _documents;

    /// <summary>Creates a task.</summary>
    /// <param name="name">The task name (e.g. <c>hellaswag</c>).</param>
    /// <param name="output">What the task asks of the model.</param>
    /// <param name="metrics">The metrics to report, a subset of <see cref="TaskMetrics.For"/>.</param>
    /// <param name="description">Where the documents come from (a path or a hub split), for reports.</param>
    /// <param name="documents">Reads the documents, in dataset order, each time it is called.</param>
    /// <exception cref="ArgumentException">A metric does not apply to <paramref name="output"/>, or none is given.</exception>
    public EvaluationTask(string name, TaskOutput output, IReadOnlyList<string> metrics, string description, Func<IEnumerable<TaskDocument>> documents)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(metrics);
        ArgumentNullException.ThrowIfNull(documents);
        if (metrics.Count == 0) throw new ArgumentException($"task {name} reports no metric", nameof(metrics));
        if (metrics.FirstOrDefault(m => !TaskMetrics.For(output).Contains(m)) is { } wrong)
            throw new ArgumentException($"task {name}: metric '{wrong}' does not apply to {output} (use {string.Join(", ", TaskMetrics.For(output))})", nameof(metrics));
        (Name, Output, Metrics, Description, _documents) = (name, output, metrics, description, documents);
    }

    /// <summary>The task name.</summary>
    public string Name { get; }

    /// <summary>What the task asks of the model.</summary>
    public TaskOutput Output { get; }

    /// <summary>The metrics reported.</summary>
    public IReadOnlyList<string> Metrics { get; }

    /// <summary>Where the documents come from.</summary>
    public string Description { get; }

    /// <summary>The documents in dataset order, read afresh on each enumeration; <paramref name="limit"/> keeps the first N.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="limit"/> is below 1.</exception>
    public IEnumerable<TaskDocument> ReadDocuments(int? limit = null)
    {
        if (limit is < 1) throw new ArgumentOutOfRangeException(nameof(limit), limit, "limit must be at least 1");
        var documents = _documents();
        return limit is int n ? documents.Take(n) : documents;
    }
}
