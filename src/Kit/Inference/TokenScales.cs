using Kit.Runtime;
using static TorchSharp.torch;

namespace Kit.Inference;

/// <summary>Dynamic per-token activation scales, as vLLM's W8A8 and FP8_DYNAMIC schemes compute them.</summary>
internal static class TokenScales
{
    /// <summary>
    /// Each row's absolute maximum over <paramref name="gridMax"/> (float32 [rows, 1]); an all-zero row gets scale 1,
    /// which maps it to zeros as well without dividing by zero.
    /// </summary>
    public static Tensor Of(Tensor x, float gridMax)
    {
        using var scope = NewDisposeScope();
        var scale = x.to_type(ScalarType.Float32).abs().amax(new long[] { 1 }, keepdim: true).DividedBy(gridMax);
        return where(scale.eq(HeldScalars.Of(0)), ones_like(scale), scale).MoveToOuterDisposeScope();
    }
}
