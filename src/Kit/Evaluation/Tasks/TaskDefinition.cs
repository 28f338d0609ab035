using Kit.Data;

namespace Kit.Evaluation.Tasks;

/// <summary>A task as the registry knows it: where its data lives and how a record becomes a document.</summary>
/// <param name="Name">The task name, as lm-evaluation-harness spells it.</param>
/// <param name="Dataset">The hub split lm-evaluation-harness evaluates, as <c>org/name[@revision]:config:split</c>.</param>
/// <param name="Output">What the task asks of the model.</param>
/// <param name="Metrics">The metrics its lm-evaluation-harness config lists.</param>
/// <param name="ToDocument">Turns one dataset record into a document.</param>
public sealed record TaskDefinition(string Name, string Dataset, TaskOutput Output, IReadOnlyList<string> Metrics,
    Func<DataRecord, TaskDocument> ToDocument)
{
    /// <summary>
    /// The task over <paramref name="data"/> (a Parquet or JSON Lines file, a folder of them, or a hub split;
    /// null means <see cref="Dataset"/>). The files are located (and hub files downloaded) now; the documents are
    /// read on each enumeration.
    /// </summary>
    public EvaluationTask Load(string? data = null, TaskDataOptions? options = null)
    {
        string spec = data ?? Dataset;
        var files = RecordFiles.Resolve(spec, options?.Hub, options?.DownloadProgress);
        return new EvaluationTask(Name, Output, Metrics, spec, () => files.SelectMany(RecordFiles.Read).Select(ToDocument));
    }
}
