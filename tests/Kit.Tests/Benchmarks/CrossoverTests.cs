using Kit.Benchmarks;
using Kit.Evaluation.Results;

namespace Kit.Tests.Benchmarks;

public sealed class CrossoverTests
{
    static IEnumerable<ThroughputPoint> Points(string model, int prompt, params (int Batch, double TokensPerSecond)[] points) =>
        points.Select(p => new ThroughputPoint(model, p.Batch, prompt, p.TokensPerSecond));

    [Fact]
    public void Int8_overtakes_at_the_first_batch_from_which_it_stays_ahead_and_the_crossing_is_interpolated_in_log_batch()
    {
        var points = Points("w8a8", 128, (1, 10), (4, 30), (16, 90), (64, 200))
            .Concat(Points("w4a16", 128, (1, 20), (4, 40), (16, 60), (64, 80)))
            .Concat(Points("w8a8", 512, (1, 1000)));     // another prompt length: ignored
        var c = Crossover.Find(points, "w8a8", "w4a16", 128);

        Assert.Equal(16, c.Batch);
        // The ratio goes 0.75 → 1.5 as the batch goes 4 → 16, i.e. ratio = 0.75 · (b/4)^(1/2), which is 1 at b = 4 · (4/3)² = 64/9.
        Assert.Equal(64.0 / 9, c.EstimatedBatch!.Value, 9);
        Assert.Equal(new[] { (1, 0.5), (4, 0.75), (16, 1.5), (64, 2.5) }, c.Ratios.Select(r => (r.Batch, r.Ratio)));
    }

    [Fact]
    public void A_challenger_that_falls_behind_again_overtakes_only_where_it_stays_ahead()
    {
        var points = Points("a", 64, (1, 5), (4, 50), (16, 50), (64, 400)).Concat(Points("b", 64, (1, 10), (4, 40), (16, 100), (64, 200)));
        var c = Crossover.Find(points, "a", "b", 64);
        Assert.Equal(64, c.Batch);
        Assert.Equal(32, c.EstimatedBatch!.Value, 9);   // ratio 0.5 at 16, 2 at 64: the geometric middle
    }

    [Fact]
    public void Never_ahead_gives_no_batch_and_ahead_from_the_start_gives_the_smallest_without_an_estimate()
    {
        var slow = Points("a", 8, (1, 1), (2, 2)).Concat(Points("b", 8, (1, 2), (2, 3)));
        var never = Crossover.Find(slow, "a", "b", 8);
        Assert.Null(never.Batch);
        Assert.Null(never.EstimatedBatch);

        var always = Crossover.Find(slow, "b", "a", 8);
        Assert.Equal(1, always.Batch);
        Assert.Null(always.EstimatedBatch);
    }

    [Fact]
    public void Repeated_points_count_by_their_median_and_missing_models_are_named()
    {
        var points = Points("a", 8, (1, 1), (1, 9), (1, 3)).Concat(Points("b", 8, (1, 2)));
        Assert.Equal(new BatchRatio(1, 1.5), Assert.Single(Crossover.Find(points, "a", "b", 8).Ratios));

        var missing = Assert.Throws<ArgumentException>(() => Crossover.Find(points, "a", "c", 8));
        Assert.Contains("no throughput of c at prompt 8", missing.Message);
        var disjoint = Assert.Throws<ArgumentException>(() => Crossover.Find(points.Concat(Points("d", 8, (4, 1))), "a", "d", 8));
        Assert.Contains("share no batch size", disjoint.Message);
    }

    [Fact]
    public void Throughput_points_come_from_the_speed_rows_of_the_results_table()
    {
        var t = new DateTime(2026, 12, 4, 0, 0, 0, DateTimeKind.Utc);
        EvaluationRecord Speed(string model, int batch, string metric, double value) =>
            new("r", t, model, null, SpeedRecords.SpeedTask, metric, value, double.NaN, 1, null, Kind: ResultKinds.Speed, Batch: batch, PromptTokens: 128, NewTokens: 8);
        var records = new[]
        {
            new EvaluationRecord("e", t, "w8a8", null, "perplexity", "perplexity", 12, double.NaN, 100, null),
            Speed("w8a8", 1, "batch_decode_tokens_per_s", 10), Speed("w8a8", 16, "batch_decode_tokens_per_s", 90),
            Speed("w4a16", 1, "batch_decode_tokens_per_s", 20), Speed("w4a16", 16, "batch_decode_tokens_per_s", 60),
            Speed("w4a16", 16, "ttft_ms", 5000),
        };
        var points = SpeedRecords.Throughput(records);
        Assert.Equal(4, points.Count);
        Assert.Equal(16, Crossover.Find(points, "w8a8", "w4a16", 128).Batch);
    }
}
