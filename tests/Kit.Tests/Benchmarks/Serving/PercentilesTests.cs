using Kit.Benchmarks.Serving;

namespace Kit.Tests.Benchmarks.Serving;

/// <summary>Percentiles by linear interpolation between ranks (NumPy's default), as vLLM's serving benchmark reports them.</summary>
public sealed class PercentilesTests
{
    [Fact]
    public void Hand_computed_values_match()
    {
        // numpy.percentile([4, 1, 3, 2], [50, 90, 99]) = [2.5, 3.7, 3.97]: ranks 1.5, 2.7 and 2.97 of 1, 2, 3, 4.
        var p = Percentiles.Of([4, 1, 3, 2]);
        Assert.Equal(2.5, p.P50, 12);
        Assert.Equal(3.7, p.P90, 12);
        Assert.Equal(3.97, p.P99, 12);
        Assert.Equal(4, p.Count);
        Assert.Equal(7, Percentiles.Of([7]).P99);
        Assert.True(double.IsNaN(Percentiles.Of([]).P50));
    }

    [Fact]
    public void Random_samples_match_a_brute_force_count_of_order_statistics()
    {
        var random = new Random(3);
        for (int trial = 0; trial < 50; trial++)
        {
            var samples = Enumerable.Range(0, random.Next(1, 40)).Select(_ => Math.Round(random.NextDouble() * 100, 1)).ToArray();
            var sorted = samples.Order().ToArray();
            foreach (double percent in new[] { 0.0, 50, 90, 99, 100 })
                Assert.Equal(BruteForce(samples, percent), Percentiles.At(sorted, percent), 9);
        }
    }

    // The k-th smallest value found without sorting: the value with fewer than k+1 samples below it and at least k+1 at or below it.
    static double BruteForce(double[] samples, double percent)
    {
        double OrderStatistic(int k) => samples.First(v => samples.Count(s => s < v) <= k && samples.Count(s => s <= v) > k);
        double rank = (samples.Length - 1) * percent / 100;
        int lower = (int)rank;
        double fraction = rank - lower;
        return fraction == 0 ? OrderStatistic(lower) : OrderStatistic(lower) * (1 - fraction) + OrderStatistic(lower + 1) * fraction;
    }
}
