using Kit.Runtime;
using static TorchSharp.torch;

namespace Kit.Quantization.Transforms;

/// <summary>
/// The orthogonal matrices rotations multiply weights by (QuaRot, SpinQuant): a Walsh–Hadamard matrix where the size is a
/// power of two, otherwise a random orthogonal one, in float64.
/// </summary>
public static class OrthogonalMatrices
{
    /// <summary>
    /// An orthogonal n × n matrix: for n a power of two and a Hadamard <paramref name="kind"/>, Sylvester's Hadamard matrix
    /// H_n / √n, its columns' signs flipped at random for <see cref="RotationKind.RandomHadamard"/> (QuaRot's randomized
    /// Hadamard, H · diag(±1)); otherwise the Q of a QR decomposition of a Gaussian matrix with R's diagonal made positive
    /// (Haar-distributed, SpinQuant's <c>random-matrix</c>). Every entry of the Hadamard form has magnitude 1/√n, which is what spreads one outlier
    /// channel over all of them. Deterministic for a given <paramref name="seed"/>.
    /// </summary>
    public static Tensor Rotation(int n, RotationKind kind, long seed)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(n, 1);
        using var scope = NewDisposeScope();
        var generator = new Generator((ulong)seed);
        if ((n & (n - 1)) != 0 || kind == RotationKind.RandomMatrix)
        {
            var (q, r) = linalg.qr(randn(new long[] { n, n }, ScalarType.Float64, generator: generator));
            return (q * r.diagonal().sign().unsqueeze(0)).MoveToOuterDisposeScope();
        }
        var h = ones(1, 1, ScalarType.Float64);
        while (h.shape[0] < n) h = cat(new[] { cat(new[] { h, h }, 1), cat(new[] { h, -h }, 1) }, 0);
        h = h.DividedBy(Math.Sqrt(n));
        if (kind == RotationKind.RandomHadamard)
            h = h * randint(0, 2, new long[] { n }, ScalarType.Float64, generator: generator).Times(2).Minus(1).unsqueeze(0);
        return h.MoveToOuterDisposeScope();
    }
}
