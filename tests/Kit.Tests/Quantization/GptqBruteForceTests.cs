using Kit.Quantization;
using static Kit.Tests.Quantization.GptqTestData;
using static TorchSharp.torch;

namespace Kit.Tests.Quantization;

/// <summary>GPTQ's Cholesky formulation against the optimal brain quantizer written out with plain arrays.</summary>
public sealed class GptqBruteForceTests
{
    /// <summary>
    /// The OBQ update column by column (GPTQ paper, Eq. 2–3): quantize column i, then subtract
    /// (w − q) · [H_F⁻¹]_{i,F} / [H_F⁻¹]_{ii} from the columns F = i.. not yet quantized, where H_F⁻¹ is
    /// recomputed from scratch as the inverse of the damped H restricted to F. Loss Σ (w − q)² / [H_F⁻¹]_{ii} / 2.
    /// The per-row grid (scale, zero point) is fixed in advance, from the original weight.
    /// </summary>
    /// <param name="groupSize">When set, the grid is refitted (min–max, per row) on the current, already
    /// compensated weights of columns i..i+groupSize whenever i is a multiple of it.</param>
    static (double[,] Q, double Loss) BruteForceObq(double[,] w, double[,] hDamped, double[] scale, double[] zero, int bits, bool symmetric, int? groupSize = null)
    {
        int rows = w.GetLength(0), cols = w.GetLength(1);
        int qmin = -(1 << (bits - 1)), qmax = (1 << (bits - 1)) - 1;
        w = (double[,])w.Clone();
        var q = new double[rows, cols];
        double loss = 0;
        for (int i = 0; i < cols; i++)
        {
            if (groupSize is int gs && i % gs == 0)
                (scale, zero) = RowGrid(w, bits, symmetric, i, i + gs);
            var hinvF = Inverse(Trailing(hDamped, i));
            for (int r = 0; r < rows; r++)
            {
                double code = Math.Clamp(Math.Round(w[r, i] / scale[r]) + zero[r], qmin, qmax);
                q[r, i] = (code - zero[r]) * scale[r];
                double diff = w[r, i] - q[r, i];
                loss += diff * diff / hinvF[0, 0] / 2;
                for (int j = i; j < cols; j++) w[r, j] -= diff * hinvF[0, j - i] / hinvF[0, 0];
            }
        }
        return (q, loss);
    }

    // With H = I no error is passed on, so OBQ rounds every weight to its nearest grid point.
    static double[,] IdentityLike(int n)
    {
        var h = new double[n, n];
        for (int i = 0; i < n; i++) h[i, i] = 1;
        return h;
    }

    /// <summary>Min–max grid per row, ranges including zero, scale rounded to the float32 Kit stores.</summary>
    static (double[] Scale, double[] Zero) RowGrid(double[,] w, int bits, bool symmetric, int from = 0, int? to = null)
    {
        int rows = w.GetLength(0), cols = to ?? w.GetLength(1);
        int qmin = -(1 << (bits - 1)), qmax = (1 << (bits - 1)) - 1;
        var scale = new double[rows];
        var zero = new double[rows];
        for (int r = 0; r < rows; r++)
        {
            double min = 0, max = 0;
            for (int c = from; c < cols; c++) { min = Math.Min(min, w[r, c]); max = Math.Max(max, w[r, c]); }
            double s = symmetric ? Math.Max(-min, max) / ((qmax - qmin) / 2.0) : (max - min) / (qmax - qmin);
            zero[r] = symmetric ? 0 : Math.Clamp(Math.Round(qmin - min / s), qmin, qmax);
            scale[r] = (float)s;
        }
        return (scale, zero);
    }

    [Theory]
    [InlineData(3, 4, 3, true, 1, 7)]
    [InlineData(3, 4, 2, false, 3, 13)]
    [InlineData(5, 9, 3, false, 4, 9)]
    [InlineData(6, 8, 2, true, 128, 10)]
    public void Gptq_equals_the_brute_force_optimal_brain_quantizer(int rows, int cols, int bits, bool symmetric, int blockSize, int seed)
    {
        var w = Gaussian(rows, cols, seed);
        var h = Hessian(CorrelatedInputs(4 * cols, cols, seed + 1, factors: 2, noise: 0.3));
        var (scale, zero) = RowGrid(w, bits, symmetric);
        var (expectedQ, expectedLoss) = BruteForceObq(w, Damped(h, 0.01), scale, zero, bits, symmetric);

        var args = new QuantizationArgs { NumBits = bits, Symmetric = symmetric, Strategy = QuantizationStrategy.Channel, GroupSize = null };
        var options = new GptqOptions { BlockSize = blockSize, ActOrder = ActOrder.None, ComputeDType = ScalarType.Float64 };
        using var result = Gptq.Quantize(ToTensor(w), ToTensor(h), args, options);

        var actual = ToArray(result.Weight);
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < cols; c++)
                Assert.True(Math.Abs(actual[r, c] - expectedQ[r, c]) < 1e-9, $"[{r},{c}]: GPTQ {actual[r, c]} vs OBQ {expectedQ[r, c]}");
        Assert.Equal(expectedLoss, result.Loss, 1e-9);
        Assert.Equal(0.01, result.Damping);
        // The compensation must have moved some weight off its nearest grid point, or the test proves little.
        var (nearest, _) = BruteForceObq(w, IdentityLike(cols), scale, zero, bits, symmetric);
        Assert.Contains(Enumerable.Range(0, rows * cols), k => Math.Abs(nearest[k / cols, k % cols] - expectedQ[k / cols, k % cols]) > 1e-6);
    }

    [Theory]
    [InlineData(4, 12, 3, 4, 2, 21)]
    [InlineData(3, 12, 2, 6, 4, 22)]
    [InlineData(5, 16, 4, 8, 3, 23)]
    public void Lazily_grouped_gptq_equals_brute_force_obq_refitting_each_group_on_compensated_weights(
        int rows, int cols, int bits, int groupSize, int blockSize, int seed)
    {
        var w = Gaussian(rows, cols, seed);
        var h = Hessian(CorrelatedInputs(4 * cols, cols, seed + 1, factors: 2, noise: 0.3));
        var (expectedQ, expectedLoss) = BruteForceObq(w, Damped(h, 0.01), new double[rows], new double[rows], bits, symmetric: false, groupSize);

        var args = new QuantizationArgs { NumBits = bits, Symmetric = false, Strategy = QuantizationStrategy.Group, GroupSize = groupSize };
        var options = new GptqOptions { BlockSize = blockSize, ActOrder = ActOrder.None, ComputeDType = ScalarType.Float64 };
        using var result = Gptq.Quantize(ToTensor(w), ToTensor(h), args, options);

        var actual = ToArray(result.Weight);
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < cols; c++)
                Assert.True(Math.Abs(actual[r, c] - expectedQ[r, c]) < 1e-9, $"[{r},{c}]: GPTQ {actual[r, c]} vs OBQ {expectedQ[r, c]}");
        Assert.Equal(expectedLoss, result.Loss, 1e-9);
    }
}
