using Kit.Calibration;
using Kit.Quantization;
using static TorchSharp.torch;

namespace Kit.Tests.Quantization;

public sealed class GptaqTests
{
    // The original model's inputs X and the compressed model's X̃ = X + noise, as tokens × in (rows are tokens).
    static (Tensor W, Tensor X, Tensor Xc) Case(int seed, double drift)
    {
        var g = new Generator((ulong)seed);
        var w = randn(new long[] { 6, 12 }, ScalarType.Float64, generator: g);
        var x = randn(new long[] { 300, 12 }, ScalarType.Float64, generator: g);
        var xc = x + drift * randn(new long[] { 300, 12 }, ScalarType.Float64, generator: g);
        return (w, x, xc);
    }

    static (Tensor H, Tensor A) Statistics(Tensor x, Tensor xc)
    {
        double n = x.shape[0];
        return (2 / n * xc.T.matmul(xc), 2 / n * (x - xc).T.matmul(xc));
    }

    // ‖Q·X̃ − W·X‖² over the tokens.
    static double Objective(Tensor q, Tensor w, Tensor x, Tensor xc) =>
        (xc.matmul(q.to_type(ScalarType.Float64).T) - x.matmul(w.T)).square().sum().item<double>();

    [Fact]
    public void With_full_strength_and_no_damping_the_target_is_the_least_squares_map_from_the_compressed_inputs_to_the_original_outputs()
    {
        var (w, x, xc) = Case(1, 0.3);
        var (h, a) = Statistics(x, xc);
        using var target = Gptaq.Target(w, h, a, strength: 1, dampeningFraction: 0);
        // min_Q ‖X̃·Qᵀ − X·Wᵀ‖ by least squares, independently of the normal equations Gptaq solves.
        using var expected = linalg.lstsq(xc, x.matmul(w.T)).Solution.T;
        Assert.True((target - expected).abs().max().item<double>() < 1e-9);
        Assert.True(Objective(target, w, x, xc) < Objective(w, w, x, xc));
    }

    [Fact]
    public void Without_drift_or_at_zero_strength_the_target_is_the_weight_itself()
    {
        var (w, x, _) = Case(2, 0);
        var (h, a) = Statistics(x, x);
        using var same = Gptaq.Target(w, h, a, strength: 1, dampeningFraction: 0.01);
        Assert.True((same - w).abs().max().item<double>() < 1e-12);
        var (_, x2, xc) = Case(3, 0.5);
        var (h2, a2) = Statistics(x2, xc);
        using var off = Gptaq.Target(w, h2, a2, strength: 0, dampeningFraction: 0.01);
        Assert.True(off.equal(w).all().item<bool>());
    }

    [Fact]
    public void Gptq_aimed_at_the_target_lowers_the_error_against_the_original_outputs()
    {
        var args = new QuantizationArgs { NumBits = 4, Symmetric = true, Strategy = QuantizationStrategy.Channel, GroupSize = null };
        var options = new GptqOptions { ActOrder = ActOrder.None, ComputeDType = ScalarType.Float64 };
        int better = 0;
        for (int seed = 0; seed < 10; seed++)
        {
            var (w, x, xc) = Case(10 + seed, 0.3);
            var (h, a) = Statistics(x, xc);
            using var plain = Gptq.Quantize(w, h, args, options).Weight;
            using var target = Gptaq.Target(w, h, a, strength: 1, dampeningFraction: 0.01);
            using var aimed = Gptq.Quantize(target, h, args, options).Weight;
            if (Objective(aimed, w, x, xc) < Objective(plain, w, x, xc)) better++;
        }
        Assert.True(better >= 9, $"GPTAQ beat GPTQ on the asymmetric objective in {better} of 10 cases");
    }

    [Fact]
    public void The_accumulator_keeps_running_means_of_both_products_over_sequences()
    {
        var (_, x, xc) = Case(4, 0.2);
        using var accumulator = new AsymmetryAccumulator(12, CPU, ScalarType.Float64);
        // 300 tokens as 3 batches of 2 sequences × 50 tokens: n counts sequences, as the GPTQ reference's does.
        for (int b = 0; b < 3; b++)
            accumulator.Add(xc.narrow(0, 100 * b, 100).view(2, 50, 12), x.narrow(0, 100 * b, 100).view(2, 50, 12));
        Assert.Equal(6, accumulator.Samples);
        using var h = 2.0 / 6 * xc.T.matmul(xc);
        using var a = 2.0 / 6 * (x - xc).T.matmul(xc);
        Assert.True((accumulator.H - h).abs().max().item<double>() < 1e-9);
        Assert.True((accumulator.A - a).abs().max().item<double>() < 1e-9);
    }

    [Fact]
    public void A_strength_outside_zero_to_one_is_refused()
    {
        using var w = ones(2, 2);
        using var h = eye(2);
        var e = Assert.Throws<ArgumentException>(() => Gptaq.Target(w, h, h, strength: 2, dampeningFraction: 0.01));
        Assert.Contains("strength", e.Message);
    }
}
