using Kit.Runtime;
using static TorchSharp.torch;

namespace Kit.Models;

/// <summary>
/// What every decoder layer of one pass over several sequences, each with its own KV cache, shares: the rotary
/// cos and sin at every token's position and, per sequence, the attention mask over its own cached keys plus
/// the new ones. The tensors belong to the dispose scope that was current when <see cref="Create"/> ran.
/// </summary>
/// <param name="Cos">cos of the rotary angles, [B, T, 1, head_dim], in the activations' dtype.</param>
/// <param name="Sin">sin of the rotary angles with rotate_half's sign, [B, T, 1, head_dim].</param>
/// <param name="Masks">
/// Per sequence, the additive mask [1, 1, T·group, cached + T] laid out for grouped-query heads as in
/// <see cref="AttentionInputs"/>, or null where every cached key is visible (one new token and no sliding window cut).
/// </param>
/// <param name="NewTokens">
/// Per sequence, how many of the T positions are its tokens; the rest pad it to T (prompts of different lengths
/// prefilled in one pass) and are neither attended to nor cached.
/// </param>
public sealed record SequenceAttentionInputs(Tensor Cos, Tensor Sin, IReadOnlyList<Tensor?> Masks, IReadOnlyList<long> NewTokens)
{
    /// <summary>
    /// The inputs for <paramref name="t"/> positions per sequence, sequence b continuing after
    /// <paramref name="cached"/>[b] positions with <paramref name="newTokens"/>[b] tokens (all <paramref name="t"/>
    /// when null), for activations of <paramref name="dtype"/>.
    /// </summary>
    public static SequenceAttentionInputs Create(ModelConfig config, RotaryEmbedding rope, IReadOnlyList<long> cached, long t, ScalarType dtype, Device device,
        IReadOnlyList<long>? newTokens = null)
    {
        newTokens ??= Enumerable.Repeat(t, cached.Count).ToArray();
        if (newTokens.Count != cached.Count || newTokens.Any(n => n < 1 || n > t))
            throw new ArgumentException($"new tokens per sequence must lie in [1, {t}], one per sequence", nameof(newTokens));
        var positions = tensor(cached.ToArray(), device: device).unsqueeze(1).Plus(ScalarArithmetic.Arange(t, ScalarType.Int64, device).unsqueeze(0));   // [B, T]
        var (cos, sin) = rope.Angles(positions, dtype);
        // Sequences at the same lengths share one mask: a decode step of a batch that started together builds one.
        var byLength = new Dictionary<(long Past, long New), Tensor?>();
        var masks = cached.Select((past, s) =>
        {
            if (!byLength.TryGetValue((past, newTokens[s]), out var mask))
                byLength[(past, newTokens[s])] = mask = Mask(config, past, newTokens[s], dtype, device);
            return mask;
        }).ToArray();
        return new SequenceAttentionInputs(cos, sin, masks, newTokens);
    }

    static Tensor? Mask(ModelConfig config, long past, long t, ScalarType dtype, Device device)
    {
        bool windowCuts = config.SlidingWindow is int w && past + t > w;
        if (t == 1 && !windowCuts) return null;
        var full = CausalLM.AttentionMask(config, ones(1, past + t, ScalarType.Int64, device), past, t, dtype);   // [1, 1, T, S]
        int group = config.NumAttentionHeads / config.NumKeyValueHeads;
        return full.unsqueeze(3).expand(1, 1, t, group, past + t).reshape(1, 1, t * group, past + t);
    }
}
