using Kit.Evaluation;

namespace Kit.Tests.Evaluation;

public sealed class TradeOffsTests
{
    static readonly VariantMeasure[] Variants =
    [
        new("float32", 19.4, 3_400_000, 400, 2_000, 16),
        new("W4A16", 20.1, 600_000, 900, 3_000, 16),
        new("W8A8", 19.6, 1_000_000, 700, 6_000, 16),
        new("W3A16", 25.0, 450_000, 1_100, 3_200, 16),   // fastest at batch 1, but 29 % worse: out of a 10 % tolerance
    ];

    [Fact]
    public void Interactive_takes_the_fastest_batch_1_decode_and_batch_jobs_the_highest_throughput_within_the_tolerance()
    {
        var picks = TradeOffs.Recommend(Variants);

        Assert.Equal(["W4A16", "W8A8"], picks.Select(p => p.Variant));
        Assert.Equal(900, picks[0].TokensPerSecond);
        Assert.Equal(6_000, picks[1].TokensPerSecond);
        Assert.Contains("within 10 % of the best (19.40)", picks[0].Why);
    }

    [Fact]
    public void A_wider_tolerance_admits_the_less_accurate_variant()
    {
        Assert.Equal("W3A16", TradeOffs.Recommend(Variants, tolerance: 0.30)[0].Variant);
        Assert.Equal("float32", TradeOffs.Recommend(Variants, tolerance: 0)[0].Variant);
    }

    [Fact]
    public void Bad_input_is_refused_by_name()
    {
        Assert.Contains("no variants", Assert.Throws<ArgumentException>(() => TradeOffs.Recommend([])).Message);
        Assert.Contains("tolerance", Assert.Throws<ArgumentException>(() => TradeOffs.Recommend(Variants, double.NaN)).Message);
    }
}
