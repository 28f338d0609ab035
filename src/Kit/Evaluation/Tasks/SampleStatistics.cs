namespace Kit.Evaluation.Tasks;

/// <summary>The aggregations of lm-evaluation-harness's <c>lm_eval/api/metrics.py</c>.</summary>
public static class SampleStatistics
{
    /// <summary>The arithmetic mean.</summary>
    /// <exception cref="ArgumentException">No values.</exception>
    public static double Mean(IReadOnlyList<double> values) =>
        values.Count > 0 ? values.Sum() / values.Count : throw new ArgumentException("the mean of no values is undefined", nameof(values));

    /// <summary>
    /// <c>mean_stderr</c>: the sample standard deviation (divisor n − 1) over √n; NaN for fewer than two values,
    /// where lm-evaluation-harness reports N/A.
    /// </summary>
    public static double MeanStdErr(IReadOnlyList<double> values)
    {
        if (values.Count < 2) return double.NaN;
        double mean = Mean(values);
        double variance = values.Sum(v => (v - mean) * (v - mean)) / (values.Count - 1);
        return Math.Sqrt(variance / values.Count);
    }
}
