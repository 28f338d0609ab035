using Kit.Runtime;

namespace Kit.Evaluation.Tasks;

/// <summary>
/// The zero-shot tasks Kit runs, with the datasets and splits lm-evaluation-harness 0.4 evaluates. HellaSwag and ARC
/// keep Parquet files on their main branch; the others are read from the hub's <c>refs/convert/parquet</c> branch,
/// which holds Parquet files for every split of a dataset the hub can show, whatever format the dataset itself is
/// stored in (LAMBADA's main branch holds JSON Lines).
/// </summary>
public static class TaskRegistry
{
    /// <summary>Every task.</summary>
    public static IReadOnlyList<TaskDefinition> All { get; } =
    [
        new("hellaswag", "Rowan/hellaswag::validation",
            TaskOutput.MultipleChoice, [TaskMetrics.Acc, TaskMetrics.AccNorm], HellaSwag.ToDocument),
        new("arc_easy", "allenai/ai2_arc:ARC-Easy:test",
            TaskOutput.MultipleChoice, [TaskMetrics.Acc, TaskMetrics.AccNorm], Arc.ToDocument),
        new("arc_challenge", "allenai/ai2_arc:ARC-Challenge:test",
            TaskOutput.MultipleChoice, [TaskMetrics.Acc, TaskMetrics.AccNorm], Arc.ToDocument),
        new("piqa", "baber/piqa@refs/convert/parquet:default:validation",
            TaskOutput.MultipleChoice, [TaskMetrics.Acc, TaskMetrics.AccNorm], Piqa.ToDocument),
        new("winogrande", "allenai/winogrande@refs/convert/parquet:winogrande_xl:validation",
            TaskOutput.MultipleChoice, [TaskMetrics.Acc], WinoGrande.ToDocument),
        new("lambada_openai", "EleutherAI/lambada_openai@refs/convert/parquet:default:test",
            TaskOutput.Loglikelihood, [TaskMetrics.Perplexity, TaskMetrics.Acc], LambadaOpenAI.ToDocument),
        // Kit's own offline smoke task (described in data/README.md): HellaSwag's layout and scoring.
        new(KitStories, KitFiles.TryFind(KitStoriesFile) ?? KitStoriesFile,
            TaskOutput.MultipleChoice, [TaskMetrics.Acc, TaskMetrics.AccNorm], HellaSwag.ToDocument),
    ];

    /// <summary>
    /// The name of Kit's offline story-completion task: 24 Kit-written items in HellaSwag's layout that travel
    /// with Kit, so that notebooks and tests score a zero-shot task without the hub.
    /// </summary>
    public const string KitStories = "kit_stories";

    const string KitStoriesFile = "tasks/kit-stories-choice.jsonl";

    /// <summary>The task names.</summary>
    public static IReadOnlyList<string> Names { get; } = All.Select(t => t.Name).ToList();

    /// <summary>The task called <paramref name="name"/>.</summary>
    /// <exception cref="ArgumentException">No task has that name; the message lists the names.</exception>
    public static TaskDefinition Get(string name) =>
        All.FirstOrDefault(t => t.Name == name)
        ?? throw new ArgumentException($"unknown task '{name}' (Kit has {string.Join(", ", Names)})", nameof(name));

    /// <summary>
    /// Task <paramref name="name"/> over <paramref name="data"/> (null means its hub split); see
    /// <see cref="TaskDefinition.Load"/>.
    /// </summary>
    public static EvaluationTask Load(string name, string? data = null, TaskDataOptions? options = null) => Get(name).Load(data, options);
}
