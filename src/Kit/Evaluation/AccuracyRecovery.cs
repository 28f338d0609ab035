namespace Kit.Evaluation;

/// <summary>One task's score for a compressed model beside its baseline's, and the recovery it makes.</summary>
/// <param name="Task">perplexity, hellaswag, ...</param>
/// <param name="Metric">The metric compared (<see cref="AccuracyRecovery.PrimaryMetric"/>).</param>
/// <param name="Compressed">The compressed model's score.</param>
/// <param name="Baseline">The uncompressed model's score.</param>
/// <param name="Recovery">Compressed ÷ baseline for scores where higher is better, baseline ÷ compressed for perplexity: 1 is full recovery.</param>
public sealed record TaskRecovery(string Task, string Metric, double Compressed, double Baseline, double Recovery);

/// <summary>One compressed variant's perplexity beside the uncompressed model's and beside a naive method's.</summary>
/// <param name="Name">The variant's label.</param>
/// <param name="Perplexity">Its perplexity.</param>
/// <param name="Recovery">Baseline ÷ variant perplexity.</param>
/// <param name="GapRecovered">The share of the naive method's perplexity gap it wins back (<see cref="AccuracyRecovery.GapRecovered"/>); null for the baseline and where no naive variant is named.</param>
/// <param name="CompressSeconds">Time to compress, calibration included.</param>
public sealed record VariantRecovery(string Name, double Perplexity, double Recovery, double? GapRecovered, double CompressSeconds);

/// <summary>
/// Accuracy recovery as published evaluations of quantized models report it (Neural Magic's, Red Hat's model cards):
/// per task the compressed model's score as a fraction of the baseline's, then the mean over tasks.
/// </summary>
public static class AccuracyRecovery
{
    /// <summary>
    /// The metric a task's recovery is computed on: perplexity for perplexity, otherwise <c>acc_norm</c> where the task
    /// reports it (hellaswag, arc_easy, arc_challenge, piqa, as the Open LLM Leaderboard scores them) and <c>acc</c> elsewhere.
    /// </summary>
    public static string PrimaryMetric(string task, IEnumerable<string> metrics)
    {
        var names = metrics.ToList();
        if (task == ModelEvaluation.PerplexityTask) return "perplexity";
        return names.Contains("acc_norm") ? "acc_norm" : names.Contains("acc") ? "acc"
            : throw new ArgumentException($"{task} reports neither acc_norm nor acc ({string.Join(", ", names)}), so it has no recovery");
    }

    /// <summary>The recovery of one task: lower is better for perplexity (baseline ÷ compressed), higher for the rest (compressed ÷ baseline).</summary>
    /// <exception cref="ArgumentException">A score is not positive and finite, so the ratio means nothing.</exception>
    public static TaskRecovery Of(string task, string metric, double compressed, double baseline)
    {
        if (!(compressed > 0) || !(baseline > 0) || !double.IsFinite(compressed) || !double.IsFinite(baseline))
            throw new ArgumentException($"{task} {metric}: recovery needs positive scores, got {compressed} for the compressed model and {baseline} for the baseline");
        bool lowerIsBetter = metric == "perplexity";
        return new TaskRecovery(task, metric, compressed, baseline, lowerIsBetter ? baseline / compressed : compressed / baseline);
    }

    /// <summary>The mean recovery over <paramref name="tasks"/>, each task weighing the same.</summary>
    public static double Mean(IReadOnlyList<TaskRecovery> tasks) =>
        tasks.Count == 0 ? throw new ArgumentException("no task to average the recovery over") : tasks.Average(t => t.Recovery);

    /// <summary>
    /// The share of a naive method's loss that a better one wins back: (naive − method) ÷ (naive − baseline), for scores
    /// where lower is better (perplexity). 1: the method matches the baseline; 0: no better than the naive method (RTN).
    /// </summary>
    public static double GapRecovered(double baseline, double naive, double method)
    {
        if (!(naive > baseline)) throw new ArgumentException($"the naive method ({naive}) must be worse than the baseline ({baseline}) for a gap to recover");
        return (naive - method) / (naive - baseline);
    }

    /// <summary>
    /// Recovery of each variant of a <see cref="VariantComparison.Run"/> against its uncompressed model (the variant without
    /// a recipe), and the share of the gap it wins back over the variant <paramref name="naiveOf"/> names for it (RTN at
    /// the same bits, say; null: none).
    /// </summary>
    /// <exception cref="ArgumentException">No uncompressed variant, or a name <paramref name="naiveOf"/> gives is not among the variants.</exception>
    public static IReadOnlyList<VariantRecovery> OfVariants(IReadOnlyList<VariantResult> variants, Func<string, string?> naiveOf)
    {
        var baseline = variants.FirstOrDefault(v => v.Recipe is null)
            ?? throw new ArgumentException("the variants hold no uncompressed model to recover towards");
        var byName = variants.ToDictionary(v => v.Name);
        return variants.Select(v =>
        {
            double? gap = null;
            if (v.Recipe is not null && naiveOf(v.Name) is { } naive)
            {
                if (!byName.TryGetValue(naive, out var n)) throw new ArgumentException($"no variant called '{naive}' (named as the naive method for '{v.Name}')");
                gap = GapRecovered(baseline.Perplexity, n.Perplexity, v.Perplexity);
            }
            return new VariantRecovery(v.Name, v.Perplexity, baseline.Perplexity / v.Perplexity, gap, v.CompressSeconds);
        }).ToList();
    }
}
