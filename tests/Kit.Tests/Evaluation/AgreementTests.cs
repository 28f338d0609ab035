using Kit.Evaluation.Agreement;
using Kit.Models;
using static TorchSharp.torch;

namespace Kit.Tests.Evaluation;

public sealed class AgreementTests
{
    static Tensor Logits(params double[][] rows) =>
        tensor(rows.SelectMany(r => r.Select(p => p == 0 ? double.NegativeInfinity : Math.Log(p))).ToArray(), rows.Length, rows[0].Length);

    [Fact]
    public void Kl_and_top1_match_closed_form_values()
    {
        // KL(P‖Q) = Σ p ln(p/q), by hand per row.
        var p = Logits([0.6, 0.4], [0.2, 0.8], [0.25, 0.75]);
        var q = Logits([0.9, 0.1], [0.7, 0.3], [0.25, 0.75]);
        double[] kl =
        [
            0.6 * Math.Log(0.6 / 0.9) + 0.4 * Math.Log(0.4 / 0.1),
            0.2 * Math.Log(0.2 / 0.7) + 0.8 * Math.Log(0.8 / 0.3),
            0,
        ];
        var acc = new AgreementAccumulator();
        acc.Add(p, q, tensor(new long[] { 1, 1, 0 }));
        var r = acc.Result();
        double mean = kl.Average();
        double sd = Math.Sqrt(kl.Sum(k => (k - mean) * (k - mean)) / 2);
        Assert.Equal(0.311239, kl[0], 5);
        Assert.Equal(mean, r.MeanKl, 12);
        Assert.Equal(sd / Math.Sqrt(3), r.KlStdErr, 12);
        Assert.Equal(kl[1], r.MaxKl, 12);
        // Row 2's arg-maxes differ (1 vs 0); rows 1 and 3 agree.
        Assert.Equal(2.0 / 3, r.Top1Agreement, 12);
        Assert.Equal(Math.Sqrt(2.0 / 3 * (1.0 / 3) * 3 / 2 / 3), r.Top1StdErr, 12);
        Assert.Equal(3, r.Positions);
        Assert.Equal(Math.Exp(-(Math.Log(0.4) + Math.Log(0.8) + Math.Log(0.25)) / 3), r.BaselinePerplexity, 10);
        Assert.Equal(Math.Exp(-(Math.Log(0.1) + Math.Log(0.3) + Math.Log(0.25)) / 3), r.CandidatePerplexity, 10);
    }

    [Fact]
    public void Zero_probability_tokens_of_the_baseline_contribute_nothing()
    {
        var acc = new AgreementAccumulator();
        acc.Add(Logits([1.0, 0.0]), Logits([0.5, 0.5]));
        Assert.Equal(Math.Log(2), acc.Result().MeanKl, 12);
        Assert.True(double.IsNaN(acc.Result().BaselinePerplexity));
    }

    [Fact]
    public void Batches_accumulate_like_one_call()
    {
        manual_seed(7);
        var p = randn(10, 32, dtype: ScalarType.Float64);
        var q = p + 0.3 * randn(10, 32, dtype: ScalarType.Float64);
        var one = new AgreementAccumulator();
        one.Add(p, q);
        var two = new AgreementAccumulator();
        two.Add(p[..4], q[..4]);
        two.Add(p[4..], q[4..]);
        Assert.Equal(one.Result().MeanKl, two.Result().MeanKl, 12);
        Assert.Equal(one.Result().KlStdErr, two.Result().KlStdErr, 12);
        Assert.Equal(one.Result().Top1Agreement, two.Result().Top1Agreement, 12);
    }

    [Fact]
    public void Mismatched_shapes_are_refused()
    {
        var acc = new AgreementAccumulator();
        var e = Assert.Throws<ArgumentException>(() => acc.Add(zeros(2, 5), zeros(2, 6)));
        Assert.Contains("[2, 5]", e.Message);
        Assert.Throws<InvalidOperationException>(() => acc.Result());
    }

    [Fact]
    public void A_model_agrees_with_itself_and_not_with_a_perturbed_copy()
    {
        using var baseline = LanguageModel.Load(TestPaths.Stories260K);
        using var same = LanguageModel.Load(TestPaths.Stories260K);
        using var perturbed = LanguageModel.Load(TestPaths.Stories260K);
        var generator = manual_seed(1);
        using (no_grad())
            foreach (var (name, module) in perturbed.Model.DecoderLinears())
            {
                var w = ((Kit.Models.Linear)module).Weight;
                w.add_(w.abs().mean() * 0.5 * randn(w.shape, generator: generator));
            }
        string text = File.ReadAllText(TestPaths.TinyStoriesText)[..3000];

        var self = ModelAgreement.Measure(baseline, same, text, seqLen: 128, maxWindows: 2);
        Assert.Equal(0, self.MeanKl, 9);
        Assert.Equal(1, self.Top1Agreement);
        Assert.Equal(self.BaselinePerplexity, self.CandidatePerplexity, 9);
        Assert.Equal(2 * 127, self.Positions);

        var other = ModelAgreement.Measure(baseline, perturbed, text, seqLen: 128, maxWindows: 2);
        Assert.True(other.MeanKl > 0.01, $"KL {other.MeanKl}");
        Assert.True(other.Top1Agreement < 1);
        Assert.Equal(self.BaselinePerplexity, other.BaselinePerplexity, 9);
        Assert.True(other.CandidatePerplexity > other.BaselinePerplexity);
    }
}
