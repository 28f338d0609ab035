using static TorchSharp.torch;
using Kit.Runtime;

namespace Kit.Quantization;

/// <summary>
/// The inverse-Hessian preparation shared by GPTQ and SparseGPT, as in the IST-DASLab reference:
/// dead columns, damping λ = fraction · mean(diag H), and Hinv = chol(cholesky_inverse(chol(H)), upper).
/// </summary>
/// <remarks>
/// The algorithms need, for each column i, row i of the inverse of H restricted to the columns i.. not yet
/// processed (the GPTQ paper's Eq. 3, applied column after column). Row i of the upper Cholesky factor U
/// of H⁻¹ is that row divided by the square root of its diagonal entry, so one factorisation replaces n
/// rank-one downdates; the algorithms use err = (w − q) / U[i, i] and subtract err · U[i, i..].
/// </remarks>
public static class HessianInverse
{
    /// <summary>
    /// Finds the columns whose input was always zero (diag H = 0), sets H[d, d] = 1 so that H can be
    /// factorised, and zeroes W[:, d] (those weights never influence the output). Both are changed in place.
    /// </summary>
    /// <param name="H">Hessian [in, in].</param>
    /// <param name="W">Weight [out, in] in the same column order as <paramref name="H"/>.</param>
    /// <returns>The dead-column mask [in] (bool).</returns>
    public static Tensor FixDeadColumns(Tensor H, Tensor W)
    {
        var dead = H.diagonal().eq(HeldScalars.Of(0));
        using (NewDisposeScope())
        {
            // H[d, d] is 0 exactly, so adding the mask on the diagonal sets it to 1.
            H.PlusInPlace(diag(dead.to_type(H.dtype)));
            W.masked_fill_(dead.unsqueeze(0), HeldScalars.Of(0));
        }
        return dead;
    }

    /// <summary>H + λI with λ = <paramref name="dampeningFraction"/> · mean(diag H) (a new tensor).</summary>
    public static Tensor Damp(Tensor H, double dampeningFraction)
    {
        using var scope = NewDisposeScope();
        var lambda = H.diagonal().mean().Times(dampeningFraction);
        return H.Plus(diag(lambda.expand(H.shape[0]))).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The upper Cholesky factor U of H⁻¹ (Uᵀ U = H⁻¹), computed as the reference does, or null when
    /// H (or its inverse, after rounding) is not positive definite in H's precision.
    /// </summary>
    public static Tensor? TryUpperCholeskyOfInverse(Tensor H)
    {
        using var scope = NewDisposeScope();
        var (L, info) = linalg.cholesky_ex(H);
        if (info.item<int>() != 0) return null;
        var inverse = cholesky_inverse(L);
        // The inverse's lower factor, transposed, is the upper factor torch.linalg.cholesky(upper=True) gives.
        var (Linv, infoInv) = linalg.cholesky_ex(inverse);
        if (infoInv.item<int>() != 0) return null;
        return Linv.mT.contiguous().MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Damps <paramref name="H"/> with <paramref name="dampeningFraction"/> and factorises its inverse;
    /// when H is not positive definite, retries up to <paramref name="maxRetries"/> times with ten times
    /// the fraction each time (GPTQModel's damp_auto_increment, in larger steps).
    /// </summary>
    /// <param name="H">Hessian [in, in] with dead columns already fixed (float32 or float64); not changed.</param>
    /// <param name="dampeningFraction">λ / mean(diag H) for the first try; 0 allowed.</param>
    /// <param name="maxRetries">Extra tries after the first.</param>
    /// <exception cref="HessianNotPositiveDefiniteException">No try gave a positive definite matrix.</exception>
    public static DampedHessianInverse Compute(Tensor H, double dampeningFraction, int maxRetries)
    {
        if (dampeningFraction < 0 || double.IsNaN(dampeningFraction))
            throw new ArgumentOutOfRangeException(nameof(dampeningFraction), dampeningFraction, "the dampening fraction must be 0 or more");
        if (maxRetries < 0)
            throw new ArgumentOutOfRangeException(nameof(maxRetries), maxRetries, "retries must be 0 or more");
        double fraction = dampeningFraction;
        for (int attempt = 0; ; attempt++)
        {
            using (var scope = NewDisposeScope())
            {
                var Hinv = TryUpperCholeskyOfInverse(Damp(H, fraction));
                if (Hinv is not null) return new DampedHessianInverse(Hinv.MoveToOuterDisposeScope(), fraction, attempt);
            }
            if (attempt == maxRetries)
                throw new HessianNotPositiveDefiniteException(dampeningFraction, fraction, maxRetries);
            // Growing from 0 would stay 0: the first retry then uses the reference's default, 1 %.
            fraction = fraction == 0 ? 0.01 : fraction * 10;
        }
    }
}

/// <summary>The upper Cholesky factor of the damped inverse Hessian and the damping that made it exist.</summary>
/// <param name="Hinv">U [in, in], upper triangular, Uᵀ U = (H + λI)⁻¹.</param>
/// <param name="DampeningFraction">λ / mean(diag H) actually used.</param>
/// <param name="Retries">How many larger dampings were needed after the first try.</param>
public sealed record DampedHessianInverse(Tensor Hinv, double DampeningFraction, int Retries) : IDisposable
{
    /// <summary>Frees the factor.</summary>
    public void Dispose() => Hinv.Dispose();
}

/// <summary>
/// The Hessian stayed indefinite even with the largest damping tried: too few calibration tokens for the
/// layer's input width, or inputs that are all but constant. The caller adds the layer's name.
/// </summary>
public sealed class HessianNotPositiveDefiniteException : InvalidOperationException
{
    /// <summary>Describes the failed tries.</summary>
    public HessianNotPositiveDefiniteException(double firstFraction, double lastFraction, int retries)
        : base($"Hessian not positive definite: Cholesky failed with dampening fraction {firstFraction:G3} and "
            + $"{retries} larger ones up to {lastFraction:G3}; add calibration data or raise --damping")
    {
        LastDampeningFraction = lastFraction;
    }

    /// <summary>The largest dampening fraction tried.</summary>
    public double LastDampeningFraction { get; }
}
