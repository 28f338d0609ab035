using System.Globalization;
using Kit.Benchmarks;

namespace Kit.Evaluation;

/// <summary>One variant measured for accuracy, size and speed.</summary>
/// <param name="Variant">Its name.</param>
/// <param name="Perplexity">Perplexity on the evaluation text (lower is better).</param>
/// <param name="WeightBytes">Bytes its weights take in memory.</param>
/// <param name="InteractiveTokensPerSecond">Decode tokens/s of one sequence at batch 1: what a chat user sees.</param>
/// <param name="BatchTokensPerSecond">Decode tokens/s of the whole batch at the largest batch measured: what a batch job gets.</param>
/// <param name="Batch">That largest batch.</param>
public sealed record VariantMeasure(string Variant, double Perplexity, long WeightBytes, double InteractiveTokensPerSecond,
    double BatchTokensPerSecond, int Batch);

/// <summary>The variant to use for one kind of work, and why.</summary>
/// <param name="UseCase">"interactive (chatbots, RAG, agents)" or "batch jobs".</param>
/// <param name="Variant">The variant chosen.</param>
/// <param name="TokensPerSecond">Its speed on that use's measure.</param>
/// <param name="Perplexity">Its perplexity.</param>
/// <param name="Why">The rule that chose it, with the figures.</param>
public sealed record Recommendation(string UseCase, string Variant, double TokensPerSecond, double Perplexity, string Why);

/// <summary>Puts variants' accuracy and speed side by side and picks one for interactive use and one for batch jobs.</summary>
public static class TradeOffs
{
    /// <summary>
    /// Joins <paramref name="variants"/> (perplexity, folder) with <paramref name="sweep"/>'s points of the same
    /// folders at <paramref name="promptTokens"/>: batch-1 per-sequence decode speed, and batch decode speed at the
    /// largest batch measured.
    /// </summary>
    /// <exception cref="ArgumentException">A variant has no batch-1 point in the sweep.</exception>
    public static IReadOnlyList<VariantMeasure> Measure(IEnumerable<VariantResult> variants, SpeedSweepResult sweep, int promptTokens)
    {
        return variants.Select(v =>
        {
            var points = sweep.Points.Where(p => p.Model == v.Folder && p.PromptTokens == promptTokens).ToList();
            var single = points.FirstOrDefault(p => p.Batch == 1)
                ?? throw new ArgumentException($"variant '{v.Name}' ({v.Folder}) has no batch-1 point at {promptTokens}-token prompts in the sweep");
            var largest = points.MaxBy(p => p.Batch)!;
            return new VariantMeasure(v.Name, v.Perplexity, single.WeightBytes, single.Timings.DecodeTokensPerSecond.Median,
                largest.Timings.BatchDecodeTokensPerSecond.Median, largest.Batch);
        }).ToList();
    }

    /// <summary>
    /// Among the variants whose perplexity is within <paramref name="tolerance"/> (a fraction) of the best, the fastest
    /// at batch 1 for interactive use and the fastest batch throughput for batch jobs.
    /// </summary>
    /// <exception cref="ArgumentException">No variants, or a negative tolerance.</exception>
    public static IReadOnlyList<Recommendation> Recommend(IReadOnlyList<VariantMeasure> variants, double tolerance = 0.10)
    {
        if (variants.Count == 0) throw new ArgumentException("no variants to choose from", nameof(variants));
        if (!(tolerance >= 0)) throw new ArgumentException($"tolerance must be a fraction ≥ 0, got {tolerance}", nameof(tolerance));
        double best = variants.Min(v => v.Perplexity), limit = best * (1 + tolerance);
        var eligible = variants.Where(v => v.Perplexity <= limit).ToList();
        string within = string.Create(CultureInfo.InvariantCulture, $"perplexity within {tolerance * 100:0.#} % of the best ({best:F2})");
        var interactive = eligible.MaxBy(v => v.InteractiveTokensPerSecond)!;
        var batch = eligible.MaxBy(v => v.BatchTokensPerSecond)!;
        return
        [
            new("interactive (chatbots, RAG, agents)", interactive.Variant, interactive.InteractiveTokensPerSecond, interactive.Perplexity,
                $"fastest decode of one sequence at batch 1 among the variants with {within}"),
            new("batch jobs", batch.Variant, batch.BatchTokensPerSecond, batch.Perplexity,
                $"highest batch throughput at batch {batch.Batch} among the variants with {within}"),
        ];
    }
}
