using Kit.Quantization;
using static TorchSharp.torch;
using static Kit.Tests.Quantization.SparsityTestInputs;

namespace Kit.Tests.Quantization;

public sealed class WandaTests
{
    [Fact]
    public void Scores_are_weight_times_input_norm_compared_within_each_row()
    {
        // ‖X_j‖ = 4, 1, 1, 0.1. Row 0 scores 4, 2, 3, 0.4 → prune columns 3 and 1 (magnitude would prune 0
        // and 1); row 1 scores 16, 1, 2, 0.3 → prune columns 3 and 1.
        var W = tensor(new[] { 1.0, 2, 3, 4, -4, 1, -2, 3 }, 2, 4);
        var normsSquared = tensor(new[] { 16.0, 1, 1, 0.01 });
        var expected = new[,] { { false, true, false, true }, { false, true, false, true } };
        using var unstructured = Wanda.Prune(W, normsSquared, SparsityPattern.Unstructured(0.5));
        using var twoOfFour = Wanda.Prune(W, normsSquared, SparsityPattern.NOfM(2, 4));
        Assert.Equal(expected, ToMask(unstructured.Mask!));
        Assert.Equal(expected, ToMask(twoOfFour.Mask!));
        Assert.Equal(new[,] { { 1.0, 0, 3, 0 }, { -4, 0, -2, 0 } }, ToArray(unstructured.Weight));
    }

    [Fact]
    public void Unstructured_prunes_the_same_count_in_every_row()
    {
        var (W, X) = Layer(seed: 5, rows: 16, columns: 80, tokens: 128, spread: 2);
        using var result = Wanda.Prune(W, X.square().sum(dim: 0), SparsityPattern.Unstructured(0.25));
        // 80 · 0.25 = 20 per row.
        Assert.All(result.Mask!.sum(1).data<long>().ToArray(), n => Assert.Equal(20, n));
    }

    [Fact]
    public void Wanda_beats_magnitude_and_sparsegpt_beats_wanda_when_input_norms_differ()
    {
        foreach (var pattern in new[] { SparsityPattern.Unstructured(0.5), SparsityPattern.NOfM(2, 4) })
            for (int seed = 0; seed < 4; seed++)
            {
                using var scope = NewDisposeScope();
                // Independent inputs whose column norms span e^−2 … e^2.
                var (W, X) = Layer(seed, rows: 32, columns: 128, tokens: 512, factors: 0, noise: 1, spread: 2);
                var H = Hessian(X);
                double magnitude = OutputError(W, MagnitudePruning.Prune(W, pattern).Weight, X);
                double wanda = OutputError(W, Wanda.Prune(W, H.diagonal(), pattern).Weight, X);
                double sparse = OutputError(W, SparseGpt.Prune(W, H, new SparseGptOptions { Pattern = pattern }).Weight, X);
                // Seen: Wanda/magnitude 0.07–0.30, SparseGPT/Wanda 0.89–0.96.
                Assert.True(wanda < 0.5 * magnitude, $"{pattern} seed {seed}: Wanda {wanda:G4} vs magnitude {magnitude:G4}");
                Assert.True(sparse < wanda, $"{pattern} seed {seed}: SparseGPT {sparse:G4} vs Wanda {wanda:G4}");
            }
    }
}
