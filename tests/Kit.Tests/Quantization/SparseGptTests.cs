using Kit.Quantization;
using static TorchSharp.torch;
using static Kit.Tests.Quantization.SparsityTestInputs;

namespace Kit.Tests.Quantization;

public sealed class SparseGptTests
{
    static double MaxAbsDiff(double[,] a, double[,] b) =>
        Enumerable.Range(0, a.GetLength(0)).SelectMany(i => Enumerable.Range(0, a.GetLength(1)).Select(j => Math.Abs(a[i, j] - b[i, j]))).Max();

    [Theory]
    // The reference keeps tmp ≤ the int(numel · sparsity)-th smallest score (0-based), one more than
    // int(numel · sparsity): blocks of 32 columns × 16 rows hold 512 weights, the last block 16 columns.
    [InlineData(0.25, 129, 65)]
    [InlineData(0.5, 257, 129)]
    public void Unstructured_prunes_one_more_than_the_ratio_in_every_block_as_the_reference(double sparsity, long perFullBlock, long lastBlock)
    {
        var (W, X) = Layer(seed: 1, rows: 16, columns: 80, tokens: 256);
        using var result = SparseGpt.Prune(W, Hessian(X), new SparseGptOptions { Pattern = SparsityPattern.Unstructured(sparsity), BlockSize = 32 });
        Assert.Equal(perFullBlock, result.Mask![.., 0..32].sum().item<long>());
        Assert.Equal(perFullBlock, result.Mask[.., 32..64].sum().item<long>());
        Assert.Equal(lastBlock, result.Mask[.., 64..80].sum().item<long>());
        Assert.Equal(0.0, result.Weight.masked_select(result.Mask).abs().max().item<double>());
    }

    [Fact]
    public void Zero_sparsity_prunes_nothing_and_leaves_w_unchanged()
    {
        var (W, X) = Layer(seed: 1, rows: 8, columns: 32, tokens: 64);
        using var result = SparseGpt.Prune(W, Hessian(X), new SparseGptOptions { Pattern = SparsityPattern.Unstructured(0) });
        Assert.Equal(0, result.Mask!.sum().item<long>());
        Assert.True(result.Weight.allclose(W, rtol: 0, atol: 1e-12));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Sparsegpt_beats_magnitude_pruning_on_correlated_inputs(bool twoOfFour)
    {
        var pattern = twoOfFour ? SparsityPattern.NOfM(2, 4) : SparsityPattern.Unstructured(0.5);
        for (int seed = 0; seed < 4; seed++)
        {
            using var scope = NewDisposeScope();
            var (W, X) = Layer(seed, rows: 32, columns: 128, tokens: 512);
            double sparse = OutputError(W, SparseGpt.Prune(W, Hessian(X), new SparseGptOptions { Pattern = pattern }).Weight, X);
            double magnitude = OutputError(W, MagnitudePruning.Prune(W, pattern).Weight, X);
            // Seen: SparseGPT/magnitude 0.03–0.16 on these inputs.
            Assert.True(sparse < 0.35 * magnitude, $"{pattern} seed {seed}: SparseGPT {sparse:G4} vs magnitude {magnitude:G4}");
        }
    }

    [Theory]
    [InlineData(12)]
    [InlineData(4)]
    public void With_pruned_columns_first_in_every_row_the_compensation_is_the_least_squares_optimum(int blockSize)
    {
        // Row r prunes its first r + 1 columns. Each pruning step is OBS with every later column free,
        // and kept columns carry no error of their own, so the sequence equals the joint optimum.
        var (W, X) = Layer(seed: 2, rows: 6, columns: 12, tokens: 48, factors: 4, noise: 0.5);
        var mask = new bool[6, 12];
        for (int r = 0; r < 6; r++)
            for (int j = 0; j <= r; j++) mask[r, j] = true;
        var options = new SparseGptOptions { BlockSize = blockSize, DampeningFraction = 0 };
        using var result = SparseGpt.Prune(W, Hessian(X), options, mask: FromMask(mask));
        var optimum = LeastSquares(W, X, mask);
        Assert.Equal(mask, ToMask(result.Mask!));
        Assert.True(MaxAbsDiff(ToArray(result.Weight), optimum) < 1e-9, $"max difference {MaxAbsDiff(ToArray(result.Weight), optimum):G3}");
    }

    [Fact]
    public void With_interleaved_masks_the_compensation_is_not_the_least_squares_optimum_but_never_beats_it()
    {
        // Block ≥ in_features: the mask is chosen before any column is pruned. A weight kept before a
        // pruned one in its row is frozen when its column is processed and cannot help later, so the
        // optimum for the same mask (which may move it) is a strict lower bound.
        var (W, X) = Layer(seed: 2, rows: 6, columns: 12, tokens: 48, factors: 4, noise: 0.5);
        using var result = SparseGpt.Prune(W, Hessian(X), new SparseGptOptions { BlockSize = 12, DampeningFraction = 0 });
        var mask = ToMask(result.Mask!);
        bool interleaved = Enumerable.Range(0, 6).Any(r => Enumerable.Range(1, 11).Any(j => mask[r, j] && !mask[r, j - 1]));
        Assert.True(interleaved);
        var optimum = LeastSquares(W, X, mask);
        double sparseError = OutputError(W, result.Weight, X);
        double optimalError = OutputError(W, tensor(optimum.Cast<double>().ToArray(), 6, 12), X);
        Assert.True(MaxAbsDiff(ToArray(result.Weight), optimum) > 1e-3);
        Assert.True(sparseError > optimalError * (1 + 1e-6), $"SparseGPT {sparseError:G6}, optimum {optimalError:G6}");
    }

    [Fact]
    public void Fixed_mask_result_does_not_depend_on_the_block_size()
    {
        // Lazy batched updates are the same arithmetic as column-by-column updates, reordered.
        var (W, X) = Layer(seed: 4, rows: 8, columns: 64, tokens: 256);
        var H = Hessian(X);
        var mask = rand(8, 64, ScalarType.Float64, generator: new Generator(9)) < 0.5;
        using var wide = SparseGpt.Prune(W, H, new SparseGptOptions { BlockSize = 64 }, mask: mask);
        using var narrow = SparseGpt.Prune(W, H, new SparseGptOptions { BlockSize = 8 }, mask: mask);
        Assert.True(wide.Weight.allclose(narrow.Weight, rtol: 0, atol: 1e-10));
        Assert.Equal(wide.Loss, narrow.Loss, 1e-9);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Loss_is_half_the_output_error_measured_by_h(bool twoOfFour)
    {
        // With H = 2/n XᵀX undamped, Loss = ½ Σ err² = ½ Σ_rows δ H δᵀ = ‖δ Xᵀ‖² / n exactly.
        var (W, X) = Layer(seed: 6, rows: 8, columns: 32, tokens: 128);
        var pattern = twoOfFour ? SparsityPattern.NOfM(2, 4) : SparsityPattern.Unstructured(0.5);
        using var result = SparseGpt.Prune(W, Hessian(X), new SparseGptOptions { Pattern = pattern, BlockSize = 8, DampeningFraction = 0 });
        Assert.Equal(1.0, result.Loss * 128 / OutputError(W, result.Weight, X), 9);
        Assert.Equal(0, result.Damping);
    }

    [Fact]
    public void Dead_inputs_zero_their_weights_and_keep_the_rest_finite()
    {
        var (W, X) = Layer(seed: 8, rows: 8, columns: 16, tokens: 64);
        X[.., 5] = 0;
        using var result = SparseGpt.Prune(W, Hessian(X), new SparseGptOptions());
        Assert.Equal(0.0, result.Weight[.., 5].abs().max().item<double>());
        Assert.True(result.Weight.isfinite().all().item<bool>());
    }

    [Fact]
    public void Failed_cholesky_is_retried_with_ten_times_the_dampening()
    {
        // 4 tokens over 8 inputs: H has rank 4. Shifting it by −0.005·mean(diag H) makes four eigenvalues
        // negative, so 0.001 of dampening fails and 0.01 succeeds.
        var (W, X) = Layer(seed: 3, rows: 4, columns: 8, tokens: 4, factors: 0, noise: 1);
        var H = Hessian(X);
        H -= eye(8, dtype: ScalarType.Float64) * (0.005 * H.diagonal().mean().item<double>());
        using var result = SparseGpt.Prune(W, H, new SparseGptOptions { DampeningFraction = 0.001 });
        Assert.Equal(0.01, result.Damping, 12);
        Assert.True(result.Weight.isfinite().all().item<bool>());

        var e = Assert.ThrowsAny<InvalidOperationException>(() => SparseGpt.Prune(W, -eye(8, dtype: ScalarType.Float64), new SparseGptOptions()));
        Assert.Contains("--damping", e.Message);
    }

    [Fact]
    public void Same_inputs_give_bit_identical_results_in_float32()
    {
        var (W64, X) = Layer(seed: 11, rows: 16, columns: 64, tokens: 128);
        var W = W64.to_type(ScalarType.Float32);
        var H = Hessian(X).to_type(ScalarType.Float32);
        var options = new SparseGptOptions { Pattern = SparsityPattern.NOfM(2, 4), BlockSize = 16 };
        var args = new QuantizationArgs { NumBits = 4, Strategy = QuantizationStrategy.Group, GroupSize = 16 };
        using var a = SparseGpt.Prune(W, H, options, args);
        using var b = SparseGpt.Prune(W, H, options, args);
        Assert.Equal(ScalarType.Float32, a.Weight.dtype);
        Assert.True(a.Weight.eq(b.Weight).all().item<bool>());
        Assert.True(a.Mask!.eq(b.Mask!).all().item<bool>());
        Assert.True(a.Quantized!.Codes.eq(b.Quantized!.Codes).all().item<bool>());
        Assert.Equal(a.Loss, b.Loss);
    }
}
