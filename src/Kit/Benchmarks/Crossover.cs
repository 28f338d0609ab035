namespace Kit.Benchmarks;

/// <summary>A model's throughput at one batch size and prompt length.</summary>
/// <param name="Model">The model.</param>
/// <param name="Batch">Sequences decoded together.</param>
/// <param name="PromptTokens">Prompt length per sequence.</param>
/// <param name="TokensPerSecond">Throughput of the whole batch.</param>
public sealed record ThroughputPoint(string Model, int Batch, int PromptTokens, double TokensPerSecond)
{
    /// <summary>The batch's decode throughput of a sweep point.</summary>
    public static ThroughputPoint BatchDecode(SpeedPoint p) => new(p.Model, p.Batch, p.PromptTokens, p.Timings.BatchDecodeTokensPerSecond.Median);
}

/// <summary>Challenger ÷ incumbent throughput at one batch size.</summary>
/// <param name="Batch">Sequences decoded together.</param>
/// <param name="Ratio">The challenger's throughput over the incumbent's.</param>
public sealed record BatchRatio(int Batch, double Ratio);

/// <summary>Where one model's throughput overtakes another's as the batch grows.</summary>
/// <param name="Challenger">The model that overtakes (typically W8A8, slower at batch 1).</param>
/// <param name="Incumbent">The model overtaken (typically W4A16).</param>
/// <param name="PromptTokens">The prompt length compared at.</param>
/// <param name="Batch">
/// The smallest measured batch from which the challenger is faster at every larger measured batch; null when it
/// is not faster at the largest.
/// </param>
/// <param name="EstimatedBatch">
/// The batch where the throughput ratio crosses 1, interpolated between the last measured batch where the challenger
/// was slower and <paramref name="Batch"/> (straight in log batch against log ratio); null when the challenger is
/// faster from the smallest measured batch on, or never.
/// </param>
/// <param name="Ratios">Challenger ÷ incumbent throughput at each batch both were measured at, ascending.</param>
public sealed record Crossover(string Challenger, string Incumbent, int PromptTokens, int? Batch, double? EstimatedBatch,
    IReadOnlyList<BatchRatio> Ratios)
{
    /// <summary>
    /// Compares <paramref name="challenger"/> with <paramref name="incumbent"/> at <paramref name="promptTokens"/> over the
    /// batches both were measured at. Repeated points (several sweeps in one table) count by their median.
    /// </summary>
    /// <exception cref="ArgumentException">Either model has no point at that prompt length, or they share no batch size.</exception>
    public static Crossover Find(IEnumerable<ThroughputPoint> points, string challenger, string incumbent, int promptTokens)
    {
        var at = points.Where(p => p.PromptTokens == promptTokens).ToArray();
        var a = ByBatch(at, challenger, promptTokens);
        var b = ByBatch(at, incumbent, promptTokens);
        var ratios = a.Keys.Intersect(b.Keys).Order().Select(batch => new BatchRatio(batch, a[batch] / b[batch])).ToArray();
        if (ratios.Length == 0)
            throw new ArgumentException($"{challenger} and {incumbent} share no batch size at prompt {promptTokens} (measured: {string.Join(",", a.Keys.Order())} against {string.Join(",", b.Keys.Order())})");

        int first = ratios.Length;
        while (first > 0 && ratios[first - 1].Ratio > 1) first--;
        if (first == ratios.Length) return new Crossover(challenger, incumbent, promptTokens, null, null, ratios);
        double? estimate = null;
        if (first > 0)
        {
            var (b0, r0) = ratios[first - 1];
            var (b1, r1) = ratios[first];
            double f = -Math.Log(r0) / (Math.Log(r1) - Math.Log(r0));
            estimate = Math.Exp(Math.Log(b0) + f * (Math.Log(b1) - Math.Log(b0)));
        }
        return new Crossover(challenger, incumbent, promptTokens, ratios[first].Batch, estimate, ratios);
    }

    static Dictionary<int, double> ByBatch(IEnumerable<ThroughputPoint> points, string model, int promptTokens)
    {
        var mine = points.Where(p => p.Model == model).GroupBy(p => p.Batch)
            .ToDictionary(g => g.Key, g => Spread.Of(g.Select(p => p.TokensPerSecond)).Median);
        if (mine.Count == 0) throw new ArgumentException($"no throughput of {model} at prompt {promptTokens}");
        if (mine.Values.Any(v => !(v > 0))) throw new ArgumentException($"{model}: throughput must be positive at every batch");
        return mine;
    }
}
