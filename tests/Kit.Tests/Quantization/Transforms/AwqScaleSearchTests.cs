using Kit.Quantization;
using Kit.Quantization.Transforms;
using static TorchSharp.torch;

namespace Kit.Tests.Quantization.Transforms;

public sealed class AwqScaleSearchTests
{
    static readonly QuantizationArgs PerChannel4 = new() { NumBits = 4, Symmetric = true, Strategy = QuantizationStrategy.Channel, GroupSize = null };

    // Two Linears reading the same inputs X [in, n]; channel 3 of X is an outlier, as AWQ's salient channels are.
    static (Tensor[] Weights, Tensor X) Case(int seed, double outlier)
    {
        var g = new Generator((ulong)seed);
        var w = new[] { randn(new long[] { 6, 16 }, generator: g), randn(new long[] { 5, 16 }, generator: g) };
        var x = randn(new long[] { 16, 200 }, generator: g);
        x[3] = x[3] * outlier;
        return (w, x);
    }

    static Tensor Hessian(Tensor x) => 2.0 / x.shape[1] * x.matmul(x.T);

    // ‖(Q(W·s)/s − W)·X‖² · 2/n summed over the Linears, in float64 from the inputs themselves.
    static double OutputError(Tensor[] weights, Tensor x, double[] s, QuantizationArgs grid)
    {
        using var scales = tensor(s, ScalarType.Float32).unsqueeze(0);
        double total = 0;
        foreach (var w in weights)
        {
            using var q = Rtn.Quantize(w * scales, grid);
            using var delta = (q.Dequantize(ScalarType.Float32) / scales - w).to_type(ScalarType.Float64);
            total += delta.matmul(x.to_type(ScalarType.Float64)).square().sum().item<double>() * 2 / x.shape[1];
        }
        return total;
    }

    // llm-compressor's candidate for ratio α, written out per channel: x̄^α / (w̄^(1−α) + 1e-4), w̄ the mean over rows of
    // |w| / max|w| of its row (one group per row here), clamped at 1e-4 and divided by √(max · min).
    static double[] ReferenceCandidate(Tensor[] weights, Tensor x, double ratio)
    {
        var rows = weights.SelectMany(w => Enumerable.Range(0, (int)w.shape[0]).Select(r => w[r].data<float>().Select(v => (double)v).ToArray())).ToList();
        int n = (int)x.shape[0];
        var s = new double[n];
        for (int j = 0; j < n; j++)
        {
            double xMean = x[j].abs().mean().item<float>();
            double wMean = rows.Average(row => Math.Abs(row[j]) / (row.Max(Math.Abs) + 1e-6));
            s[j] = Math.Max(Math.Pow(xMean, ratio) / (Math.Pow(wMean, 1 - ratio) + 1e-4), 1e-4);
        }
        double norm = Math.Sqrt(s.Max() * s.Min());
        return s.Select(v => v / norm).ToArray();
    }

    [Fact]
    public void The_error_from_the_hessian_equals_the_output_error_over_the_calibration_tokens()
    {
        var (w, x) = Case(1, 10);
        var s = Enumerable.Range(0, 16).Select(j => 0.5 + j / 16.0).ToArray();
        using var h = Hessian(x);
        using var scales = tensor(s, ScalarType.Float32);
        double fromHessian = AwqScaleSearch.Error(w, h, scales, PerChannel4);
        double direct = OutputError(w, x, s, PerChannel4);
        Assert.Equal(direct, fromHessian, direct * 1e-4);
    }

    [Fact]
    public void The_search_keeps_the_best_of_the_grid_by_brute_force_and_never_loses_to_no_scales()
    {
        var (w, x) = Case(2, 100);
        using var h = Hessian(x);
        using var meanAbs = x.abs().mean(new long[] { 1 });
        var result = AwqScaleSearch.Search(w, h, meanAbs, PerChannel4, new AwqOptions { Grid = 10 });

        double unscaled = OutputError(w, x, Enumerable.Repeat(1.0, 16).ToArray(), PerChannel4);
        // The candidates follow llm-compressor's formula; their errors are then measured on the tokens themselves. (The
        // errors use Kit's float32 candidates: the grid puts a row's largest |w| at exactly 7.5 steps, a rounding tie
        // that float64 scales can break the other way.)
        using var wMean = AwqScaleSearch.NormalizedColumnMeans(w, PerChannel4);
        var candidates = Enumerable.Range(0, 10).Select(k => AwqScaleSearch.Candidate(meanAbs, wMean, k / 10.0, duo: true)).ToArray();
        for (int k = 0; k < 10; k++)
        {
            var expected = ReferenceCandidate(w, x, k / 10.0);
            for (int j = 0; j < 16; j++) Assert.Equal(expected[j], candidates[k][j].item<float>(), expected[j] * 1e-5);
        }
        var errors = candidates.Select(c => OutputError(w, x, c.data<float>().Select(v => (double)v).ToArray(), PerChannel4)).ToArray();
        int best = Array.IndexOf(errors, errors.Min());
        Assert.True(errors.Min() < unscaled, "an outlier channel this large should make scaling pay");
        Assert.Equal(best / 10.0, result.Ratio!.Value, 12);
        Assert.Equal(errors.Min(), result.Error, errors.Min() * 1e-4);
        Assert.Equal(unscaled, result.UnscaledError, unscaled * 1e-4);
        Assert.True(candidates[best].equal(result.Scales).all().item<bool>());
    }

    [Fact]
    public void Without_outliers_a_search_that_cannot_beat_plain_rounding_leaves_the_weights_alone()
    {
        // Identical columns and inputs: every candidate scale is 1 up to rounding, none is strictly better.
        using var w = ones(4, 8) * tensor(new float[] { 1, -1, 1, -1, 1, -1, 1, -1 }).unsqueeze(0);
        using var x = ones(8, 10);
        using var h = Hessian(x);
        using var meanAbs = x.abs().mean(new long[] { 1 });
        var result = AwqScaleSearch.Search([w], h, meanAbs, PerChannel4, new AwqOptions { Grid = 5 });
        Assert.Null(result.Ratio);
        Assert.True(result.Scales.eq(1).all().item<bool>());
        Assert.Equal(result.UnscaledError, result.Error);
    }

    [Fact]
    public void A_search_needs_a_grid_and_something_to_balance()
    {
        using var h = eye(4);
        using var m = ones(4);
        Assert.Contains("at least one Linear", Assert.Throws<ArgumentException>(() => AwqScaleSearch.Search([], h, m, PerChannel4, new AwqOptions())).Message);
        Assert.Contains("grid", Assert.Throws<ArgumentException>(() => AwqScaleSearch.Search([ones(2, 4)], h, m, PerChannel4, new AwqOptions { Grid = 0 })).Message);
    }
}
