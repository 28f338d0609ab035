using Kit.Quantization.Transforms;
using static TorchSharp.torch;

namespace Kit.Tests.Quantization.Transforms;

public sealed class OrthogonalMatricesTests
{
    [Theory]
    [InlineData(8, RotationKind.Hadamard)]
    [InlineData(64, RotationKind.RandomHadamard)]
    [InlineData(64, RotationKind.RandomMatrix)]
    [InlineData(12, RotationKind.RandomHadamard)]
    [InlineData(172, RotationKind.Hadamard)]
    public void Every_rotation_is_orthogonal_in_float64(int n, RotationKind kind)
    {
        using var r = OrthogonalMatrices.Rotation(n, kind, seed: 3);
        Assert.Equal(ScalarType.Float64, r.dtype);
        Assert.Equal(new long[] { n, n }, r.shape);
        using var product = r.matmul(r.T);
        using var identity = eye(n, dtype: ScalarType.Float64);
        Assert.True((product - identity).abs().max().item<double>() < 1e-12);
    }

    [Fact]
    public void Hadamard_is_sylvesters_matrix_scaled_by_one_over_root_n()
    {
        using var h = OrthogonalMatrices.Rotation(4, RotationKind.Hadamard, seed: 0);
        double[,] sylvester = { { 1, 1, 1, 1 }, { 1, -1, 1, -1 }, { 1, 1, -1, -1 }, { 1, -1, -1, 1 } };
        for (int i = 0; i < 4; i++)
            for (int j = 0; j < 4; j++)
                Assert.Equal(sylvester[i, j] / 2, h[i, j].item<double>(), 15);
    }

    [Fact]
    public void A_random_hadamard_keeps_every_entry_at_one_over_root_n_and_depends_on_the_seed()
    {
        using var a = OrthogonalMatrices.Rotation(64, RotationKind.RandomHadamard, seed: 1);
        using var b = OrthogonalMatrices.Rotation(64, RotationKind.RandomHadamard, seed: 2);
        using var again = OrthogonalMatrices.Rotation(64, RotationKind.RandomHadamard, seed: 1);
        using var plain = OrthogonalMatrices.Rotation(64, RotationKind.Hadamard, seed: 1);
        Assert.True((a.abs() - 1 / 8.0).abs().max().item<double>() < 1e-15);
        Assert.True(a.equal(again).all().item<bool>());
        Assert.False(a.equal(b).all().item<bool>());
        Assert.False(a.equal(plain).all().item<bool>());
    }

    [Fact]
    public void A_hadamard_rotation_spreads_one_outlier_channel_over_all_channels()
    {
        // QuaRot's point: x with one channel 100× the rest has max|x| / rms ≈ √n; rotated, every entry is ≈ rms.
        using var x = randn(new long[] { 1, 64 }, ScalarType.Float64, generator: new Generator(7));
        x[0, 5] = tensor(100.0, ScalarType.Float64);
        using var r = OrthogonalMatrices.Rotation(64, RotationKind.RandomHadamard, seed: 0);
        using var rotated = x.matmul(r);
        static double Peak(Tensor t) => (t.abs().max() / t.square().mean().sqrt()).item<double>();
        Assert.True(Peak(x) > 7.5);
        Assert.True(Peak(rotated) < 1.5, $"peak/rms after the rotation {Peak(rotated)}");
        Assert.Equal(x.norm().item<double>(), rotated.norm().item<double>(), 10);
    }
}
