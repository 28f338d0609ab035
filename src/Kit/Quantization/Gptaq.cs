using Kit.Runtime;
using static TorchSharp.torch;

namespace Kit.Quantization;

/// <summary>
/// GPTAQ's asymmetric calibration (Li et al., ICML 2025, "GPTQv2"): a Linear of the compressed model reads X̃, the inputs
/// its compressed predecessors produce, while the original model's Linear read X; GPTQ matches Q·X̃ to W·X̃ and so lets
/// the error already made upstream stand. GPTAQ aims at the original's outputs instead: min_Q ‖Q·X̃ − W·X‖².
/// </summary>
/// <remarks>
/// With H = 2/n·X̃X̃ᵀ and A = 2/n·(X − X̃)·X̃ᵀ (the reference's <c>dXXT</c>), expanding the square gives
/// ‖Q·X̃ − W·X‖² = n/2 · (Q − W̃)·H·(Q − W̃)ᵀ + const with W̃ = W + W·A·H⁻¹, the least-squares map from X̃ to W·X. So
/// GPTQ run on W̃ with H is the column-by-column OBS rounding of GPTAQ's objective, exactly. The reference code folds
/// the same term into GPTQ's loop as P = α·triu₁(A·Uᵀ)·U (U the upper Cholesky factor of H⁻¹), applied with each column's
/// current value; Kit shifts the target once, with the whole A·H⁻¹, and keeps the reference's blend α (default 0.25):
/// W̃ = W + α·W·A·(H + λI)⁻¹, λ GPTQ's damping.
/// </remarks>
public static class Gptaq
{
    /// <summary>The reference's default weight of the asymmetry term.</summary>
    public const double DefaultStrength = 0.25;

    /// <summary>
    /// W̃ = W + <paramref name="strength"/> · W·A·(H + λI)⁻¹ for <paramref name="W"/> [out, in], <paramref name="H"/> and
    /// <paramref name="A"/> [in, in] accumulated over the same tokens, λ = <paramref name="dampeningFraction"/> ·
    /// mean(diag H) (raised tenfold up to <paramref name="maxRetries"/> times where H stays indefinite, as GPTQ does).
    /// Computed in float64; returned in W's dtype. Columns whose input was always zero keep their weights.
    /// </summary>
    public static Tensor Target(Tensor W, Tensor H, Tensor A, double strength, double dampeningFraction, int maxRetries = 5)
    {
        if (strength is < 0 or > 1 || double.IsNaN(strength))
            throw new ArgumentException($"GPTAQ's strength α must lie in [0, 1], got {strength}");
        long columns = W.shape[1];
        if (H.shape[0] != columns || A.shape[0] != columns || A.shape[1] != columns)
            throw new ArgumentException($"GPTAQ needs H and A [{columns}, {columns}] for a weight [{W.shape[0]}, {columns}], got H [{string.Join(", ", H.shape)}], A [{string.Join(", ", A.shape)}]");
        using var scope = NewDisposeScope();
        var w = W.to_type(ScalarType.Float64);
        var h = H.to_type(ScalarType.Float64).to(W.device).clone();
        var a = A.to_type(ScalarType.Float64).to(W.device);
        var dead = h.diagonal().eq(HeldScalars.Of(0));
        h.PlusInPlace(diag(dead.to_type(ScalarType.Float64)));
        double fraction = dampeningFraction;
        for (int attempt = 0; ; attempt++)
        {
            var (L, info) = linalg.cholesky_ex(HessianInverse.Damp(h, fraction));
            if (info.item<int>() == 0)
            {
                // (W·A)·(H + λI)⁻¹ = ((H + λI)⁻¹·(W·A)ᵀ)ᵀ, H symmetric.
                var shift = cholesky_solve(w.matmul(a).T, L).T;
                shift.masked_fill_(dead.unsqueeze(0), HeldScalars.Of(0));
                return w.Plus(shift.Times(strength)).to_type(W.dtype).MoveToOuterDisposeScope();
            }
            if (attempt == maxRetries) throw new HessianNotPositiveDefiniteException(dampeningFraction, fraction, maxRetries);
            fraction = fraction == 0 ? 0.01 : fraction * 10;
        }
    }
}
