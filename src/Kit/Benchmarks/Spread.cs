namespace Kit.Benchmarks;

/// <summary>The median of repeated measurements and their range.</summary>
/// <param name="Median">The middle value (the mean of the two middle values for an even count).</param>
/// <param name="Min">The smallest value.</param>
/// <param name="Max">The largest value.</param>
public sealed record Spread(double Median, double Min, double Max)
{
    /// <summary>The spread of <paramref name="values"/>; at least one value is needed.</summary>
    public static Spread Of(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        if (sorted.Length == 0) throw new ArgumentException("a spread needs at least one value", nameof(values));
        int mid = sorted.Length / 2;
        double median = sorted.Length % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
        return new Spread(median, sorted[0], sorted[^1]);
    }

    /// <summary>"median (min–max)" with <paramref name="format"/> for each number.</summary>
    public string ToString(string format) => $"{Median.ToString(format)} ({Min.ToString(format)}–{Max.ToString(format)})";
}
