using System.Diagnostics;
using Kit.Evaluation.Agreement;
using Kit.Evaluation.Results;
using Kit.Evaluation.Tasks;
using Kit.Models;

namespace Kit.Evaluation;

/// <summary>
/// One evaluation of a model, as <c>kit eval</c> and the notebooks run it: perplexity, agreement with a
/// baseline, per-layer errors from the compression report, and zero-shot tasks, appended to the results table.
/// </summary>
public static class ModelEvaluation
{
    /// <summary>The task that scores the evaluation text's perplexity.</summary>
    public const string PerplexityTask = "perplexity";

    /// <summary>Every task name <see cref="EvaluationOptions.Tasks"/> accepts.</summary>
    public static IReadOnlyList<string> TaskNames { get; } = [PerplexityTask, .. TaskRegistry.Names];

    /// <summary>Evaluates <paramref name="model"/> (a folder, hub id or GGUF file) as <paramref name="options"/> say.</summary>
    /// <param name="model">The model.</param>
    /// <param name="options">What to measure.</param>
    /// <param name="progress">Each step as it starts (agreement, perplexity, a task), in words.</param>
    /// <param name="stepProgress">The fraction of the current step done, 0 to 1.</param>
    /// <exception cref="ArgumentException">A task name is unknown, or the options are out of range.</exception>
    public static EvaluationRun Run(string model, EvaluationOptions options, IProgress<string>? progress = null, IProgress<double>? stepProgress = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(model);
        var tasks = Validated(options);
        // Task files are located (and hub files fetched) before any model work, so a missing file fails fast.
        var zeroShot = tasks.Where(t => t != PerplexityTask)
            .Select(t => TaskRegistry.Load(t, options.TaskData.GetValueOrDefault(t), new TaskDataOptions { Hub = options.Load.Hub }))
            .ToList();
        var clock = Stopwatch.StartNew();
        var time = DateTime.UtcNow;
        string runId = $"{time:yyyyMMdd-HHmmss}-{Guid.NewGuid().ToString("N")[..6]}";
        var records = new List<EvaluationRecord>();
        EvaluationRecord Record(string who, string? baseline, string task, string metric, double value, double stdErr, long count, string? bos = null) =>
            new(runId, time, who, baseline, task, metric, value, stdErr, count, options.Limit, bos);

        using var lm = LanguageModel.Load(model, options.Load);
        string? text = tasks.Contains(PerplexityTask) || options.Baseline is not null ? EvaluationText.Load(options.Text) : null;

        PerplexityResult? perplexity = null;
        AgreementResult? agreement = null;
        if (options.Baseline is { } baselineName)
        {
            progress?.Report($"agreement with {baselineName}");
            using var baseline = LanguageModel.Load(baselineName, options.Load);
            agreement = ModelAgreement.Measure(baseline, lm, text!, options.SeqLen, options.MaxWindows, stepProgress);
            records.Add(Record(model, baselineName, "agreement", "kl_mean", agreement.MeanKl, agreement.KlStdErr, agreement.Positions));
            records.Add(Record(model, baselineName, "agreement", "kl_max", agreement.MaxKl, double.NaN, agreement.Positions));
            records.Add(Record(model, baselineName, "agreement", "top1_agreement", agreement.Top1Agreement, agreement.Top1StdErr, agreement.Positions));
            if (tasks.Contains(PerplexityTask))
            {
                records.Add(Record(baselineName, null, PerplexityTask, "perplexity", agreement.BaselinePerplexity, double.NaN, agreement.Positions));
                // The comparison scored the model on the same windows already.
                perplexity = agreement.AsCandidatePerplexity();
                records.Add(Record(model, null, PerplexityTask, "perplexity", perplexity.Value, double.NaN, perplexity.PredictedTokens));
            }
        }
        else if (tasks.Contains(PerplexityTask))
        {
            progress?.Report(PerplexityTask);
            perplexity = lm.Perplexity(text!, Math.Min(options.SeqLen, lm.Config.MaxPositionEmbeddings), maxWindows: options.MaxWindows, progress: stepProgress);
            records.Add(Record(model, null, PerplexityTask, "perplexity", perplexity.Value, double.NaN, perplexity.PredictedTokens));
        }

        var scores = new List<TaskResult>();
        var source = new ModelLoglikelihood(lm, new LoglikelihoodOptions { AddBosToken = options.AddBosToken });
        foreach (var task in zeroShot)
        {
            progress?.Report($"{task.Name} ({task.Description}; add_bos_token={source.BosPolicy})");
            var result = TaskScorer.Score(source, task, options.Limit, stepProgress);
            scores.Add(result);
            foreach (var (metric, value) in result.Metrics)
                records.Add(Record(model, null, task.Name, metric, value.Value, value.StdErr, result.Count, source.BosPolicy));
        }

        var recovery = new List<TaskRecovery>();
        if (options.Baseline is { } reference)
        {
            if (agreement is not null && perplexity is not null)
                recovery.Add(AccuracyRecovery.Of(PerplexityTask, "perplexity", perplexity.Value, agreement.BaselinePerplexity));
            if (zeroShot.Count > 0)
            {
                // The baseline takes the same documents, with the same BOS policy as its own tokenizer sets.
                using var baseline = LanguageModel.Load(reference, options.Load);
                var baselineSource = new ModelLoglikelihood(baseline, new LoglikelihoodOptions { AddBosToken = options.AddBosToken });
                foreach (var (task, result) in zeroShot.Zip(scores))
                {
                    progress?.Report($"{task.Name} on the baseline {reference}");
                    var baselineResult = TaskScorer.Score(baselineSource, task, options.Limit, stepProgress);
                    foreach (var (metric, value) in baselineResult.Metrics)
                        records.Add(Record(reference, null, task.Name, metric, value.Value, value.StdErr, baselineResult.Count, baselineSource.BosPolicy));
                    string primary = AccuracyRecovery.PrimaryMetric(task.Name, result.Metrics.Keys);
                    recovery.Add(AccuracyRecovery.Of(task.Name, primary, result.Metrics[primary].Value, baselineResult.Metrics[primary].Value));
                }
            }
            foreach (var r in recovery)
                records.Add(Record(model, reference, r.Task, "recovery", r.Recovery, double.NaN, 1));
            if (recovery.Count > 0)
                records.Add(Record(model, reference, "mean", "recovery", AccuracyRecovery.Mean(recovery), double.NaN, recovery.Count));
        }

        var layerErrors = LayerErrors.Read(lm.Folder);
        var measured = layerErrors.Where(e => double.IsFinite(e.RelativeError)).ToList();
        if (measured.Count > 0)
        {
            records.Add(Record(model, null, "layer_error", "relative_error_mean", measured.Average(e => e.RelativeError), double.NaN, measured.Count));
            records.Add(Record(model, null, "layer_error", "relative_error_max", measured.Max(e => e.RelativeError), double.NaN, measured.Count));
        }

        if (options.RunsFolder is { } runs) ResultsTable.Append(runs, records);
        return new EvaluationRun(runId, records, perplexity, agreement, layerErrors, scores, clock.Elapsed.TotalSeconds) { Recovery = recovery };
    }

    static List<string> Validated(EvaluationOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var tasks = options.Tasks.Select(t => t.Trim().ToLowerInvariant()).Where(t => t.Length > 0).Distinct().ToList();
        if (tasks.Count == 0 && options.Baseline is null)
            throw new ArgumentException("tasks: name at least one task (or a baseline to compare with)");
        var unknown = tasks.Where(t => !TaskNames.Contains(t)).ToList();
        if (unknown.Count > 0)
            throw new ArgumentException($"tasks: unknown task(s) {string.Join(", ", unknown)}; known: {string.Join(", ", TaskNames)}");
        var stray = options.TaskData.Keys.Where(t => !tasks.Contains(t)).ToList();
        if (stray.Count > 0)
            throw new ArgumentException($"task data: given for {string.Join(", ", stray)}, which is not among the tasks asked for ({string.Join(", ", tasks)})");
        if (options.Limit is < 1) throw new ArgumentException($"limit must be at least 1, got {options.Limit}");
        if (options.MaxWindows is < 1) throw new ArgumentException($"max-windows must be at least 1, got {options.MaxWindows}");
        if (options.SeqLen < 2) throw new ArgumentException($"seq-len must be at least 2, got {options.SeqLen}");
        return tasks;
    }
}
