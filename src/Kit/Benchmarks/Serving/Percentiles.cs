namespace Kit.Benchmarks.Serving;

/// <summary>The 50th, 90th and 99th percentiles of a set of latencies, in milliseconds (NaN when there are none).</summary>
/// <param name="P50">The median.</param>
/// <param name="P90">90th percentile.</param>
/// <param name="P99">99th percentile.</param>
/// <param name="Count">How many samples they summarise.</param>
public sealed record Percentiles(double P50, double P90, double P99, int Count)
{
    /// <summary>The percentiles of <paramref name="samples"/>.</summary>
    public static Percentiles Of(IEnumerable<double> samples)
    {
        var sorted = samples.Order().ToArray();
        return new Percentiles(At(sorted, 50), At(sorted, 90), At(sorted, 99), sorted.Length);
    }

    /// <summary>
    /// The <paramref name="percent"/>-th percentile of ascending <paramref name="sorted"/> values by linear interpolation
    /// between the two nearest ranks, rank (n − 1)·p/100 — NumPy's default, which vLLM's serving benchmark reports.
    /// </summary>
    public static double At(IReadOnlyList<double> sorted, double percent)
    {
        if (!(percent >= 0 && percent <= 100)) throw new ArgumentOutOfRangeException(nameof(percent), percent, "a percentile is between 0 and 100");
        if (sorted.Count == 0) return double.NaN;
        double rank = (sorted.Count - 1) * percent / 100;
        int below = (int)Math.Floor(rank);
        int above = Math.Min(below + 1, sorted.Count - 1);
        return sorted[below] + (sorted[above] - sorted[below]) * (rank - below);
    }
}
