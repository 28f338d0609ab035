using Kit.Quantization;
using static Kit.Tests.Quantization.GptqTestData;
using static TorchSharp.torch;

namespace Kit.Tests.Quantization;

public sealed class HessianInverseTests
{
    static double[,] SampleHessian(int n, int seed) => Hessian(CorrelatedInputs(3 * n, n, seed, factors: 3, noise: 0.2));

    [Fact]
    public void Cholesky_of_the_inverse_equals_the_inverses_upper_cholesky_computed_directly()
    {
        var h = SampleHessian(10, 1);
        var expected = UpperCholesky(Inverse(Damped(h, 0.01)));
        using var inverse = HessianInverse.Compute(ToTensor(h), 0.01, 0);
        var actual = ToArray(inverse.Hinv);
        for (int i = 0; i < 10; i++)
            for (int j = 0; j < 10; j++)
                Assert.True(Math.Abs(expected[i, j] - actual[i, j]) < 1e-9 * Math.Abs(expected[0, 0]), $"[{i},{j}]: {actual[i, j]} vs {expected[i, j]}");
        Assert.Equal(0.01, inverse.DampeningFraction);
        Assert.Equal(0, inverse.Retries);
    }

    [Fact]
    public void Upper_factor_rows_are_the_rows_of_the_shrinking_inverses()
    {
        // Row i of U, over U[i,i], is row 0 of (H restricted to i..)⁻¹ over its first entry: OBQ's update direction.
        var hDamped = Damped(SampleHessian(8, 2), 0.01);
        using var inverse = HessianInverse.Compute(ToTensor(hDamped), 0, 0);
        var u = ToArray(inverse.Hinv);
        for (int i = 0; i < 8; i++)
        {
            var hinvF = Inverse(Trailing(hDamped, i));
            Assert.Equal(hinvF[0, 0], u[i, i] * u[i, i], 1e-9 * hinvF[0, 0]);
            for (int j = i; j < 8; j++) Assert.Equal(hinvF[0, j - i] / hinvF[0, 0], u[i, j] / u[i, i], 1e-9);
            for (int j = 0; j < i; j++) Assert.Equal(0.0, u[i, j]);
        }
    }

    [Fact]
    public void Float32_factor_matches_the_float64_one()
    {
        var h = SampleHessian(12, 3);
        var expected = UpperCholesky(Inverse(Damped(h, 0.01)));
        using var inverse = HessianInverse.Compute(ToTensor(h, ScalarType.Float32), 0.01, 0);
        Assert.Equal(ScalarType.Float32, inverse.Hinv.dtype);
        var actual = ToArray(inverse.Hinv);
        for (int i = 0; i < 12; i++)
            for (int j = i; j < 12; j++)
                Assert.True(Math.Abs(expected[i, j] - actual[i, j]) < 1e-3 * Math.Abs(expected[i, i]), $"[{i},{j}]: {actual[i, j]} vs {expected[i, j]}");
    }

    [Fact]
    public void Dead_columns_get_a_unit_diagonal_and_zero_weights()
    {
        var h = tensor(new double[] { 2, 0, 1, 0, 0, 0, 1, 0, 3 }, 3, 3);
        var w = tensor(new double[] { 1, 2, 3, 4, 5, 6 }, 2, 3);
        var dead = HessianInverse.FixDeadColumns(h, w);
        Assert.Equal(new[] { false, true, false }, dead.data<bool>().ToArray());
        Assert.Equal(new double[] { 2, 0, 1, 0, 1, 0, 1, 0, 3 }, h.data<double>().ToArray());
        Assert.Equal(new double[] { 1, 0, 3, 4, 0, 6 }, w.data<double>().ToArray());
    }

    [Fact]
    public void Damping_adds_the_fraction_of_the_mean_diagonal()
    {
        var h = tensor(new double[] { 2, 1, 1, 4 }, 2, 2);
        // mean(diag) = 3, λ = 0.1 · 3 = 0.3.
        Assert.Equal(new[] { 2.3, 1, 1, 4.3 }, HessianInverse.Damp(h, 0.1).data<double>().ToArray());
        Assert.Equal(new double[] { 2, 1, 1, 4 }, h.data<double>().ToArray());
    }

    [Fact]
    public void Not_positive_definite_gives_null_and_retries_report_the_damping()
    {
        // Eigenvalues 1 ± 3: −2 needs λ > 2, i.e. fraction > 2 with mean(diag) = 1 → 0.01, 0.1, 1, 10.
        var h = tensor(new double[] { 1, 3, 3, 1 }, 2, 2);
        Assert.Null(HessianInverse.TryUpperCholeskyOfInverse(h));
        using var inverse = HessianInverse.Compute(h, 0.01, 5);
        Assert.Equal(10, inverse.DampeningFraction, 1e-12);
        Assert.Equal(3, inverse.Retries);
        var expected = UpperCholesky(Inverse(Damped(new double[,] { { 1, 3 }, { 3, 1 } }, 10)));
        var actual = ToArray(inverse.Hinv);
        Assert.Equal(expected[0, 0], actual[0, 0], 1e-12);
        Assert.Equal(expected[0, 1], actual[0, 1], 1e-12);
        Assert.Equal(expected[1, 1], actual[1, 1], 1e-12);
        Assert.Throws<HessianNotPositiveDefiniteException>(() => HessianInverse.Compute(h, 0.01, 2));
    }
}
