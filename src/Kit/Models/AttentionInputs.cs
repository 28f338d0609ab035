using static TorchSharp.torch;

namespace Kit.Models;

/// <summary>
/// What every decoder layer of one forward pass shares, computed once per pass instead of once per layer:
/// the rotary cos and sin at the tokens' positions and the attention mask laid out for grouped-query heads.
/// The tensors belong to the dispose scope that was current when <see cref="Create"/> ran.
/// </summary>
/// <param name="Cos">cos of the rotary angles, [B, T, 1, head_dim], in the activations' dtype.</param>
/// <param name="Sin">sin of the rotary angles with rotate_half's sign (−sin on the first half), [B, T, 1, head_dim].</param>
/// <param name="Mask">Additive mask [B, 1, T·group, S]: row t·group + g is query t's row, shared by the group's query heads.</param>
public sealed record AttentionInputs(Tensor Cos, Tensor Sin, Tensor Mask)
{
    /// <summary>
    /// The inputs for tokens at <paramref name="positions"/> [B, T] under <paramref name="mask"/>
    /// [B, 1, T, S] (<see cref="CausalLM.AttentionMask"/>) for activations of <paramref name="dtype"/>.
    /// </summary>
    public static AttentionInputs Create(ModelConfig config, RotaryEmbedding rope, Tensor positions, Tensor mask, ScalarType dtype)
    {
        var (cos, sin) = rope.Angles(positions, dtype);
        int group = config.NumAttentionHeads / config.NumKeyValueHeads;
        long b = mask.shape[0], t = mask.shape[2], s = mask.shape[3];
        // A view when T = 1 (decode); prefill copies the mask once per pass, not once per layer.
        var grouped = mask.unsqueeze(3).expand(b, 1, t, group, s).reshape(b, 1, t * group, s);
        return new AttentionInputs(cos, sin, grouped);
    }
}
