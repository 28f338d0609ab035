using Kit.Models;

namespace Kit.Calibration;

/// <summary>A decoder layer's Linears by name, as the pipeline holds them.</summary>
internal static class DenseLinears
{
    /// <summary>
    /// The Linear called <paramref name="name"/> (self_attn.q_proj, ...) in <paramref name="layer"/>. The pipeline reads
    /// dense checkpoints, so every decoder Linear here is a dense one.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="name"/> is not a Linear of a decoder layer.</exception>
    public static Linear Of(DecoderLayer layer, string name) =>
        (Linear)(LayerLinears.Find(name) ?? throw new ArgumentException($"'{name}' is not a Linear of a decoder layer", nameof(name))).Module(layer);
}
