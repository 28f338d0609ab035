using static TorchSharp.torch;

namespace Kit.Models;

/// <summary>
/// The seven Linears of a Llama-family decoder layer, in checkpoint order: each one's name within the layer
/// (<c>self_attn.q_proj</c>, …), where <see cref="DecoderLayer"/> holds it, and its [out, in] shape for a
/// <see cref="ModelConfig"/>. The one table that names them: listing, finding and checking a Linear all read it.
/// </summary>
public static class LayerLinears
{
    /// <summary>One Linear of a decoder layer.</summary>
    /// <param name="Name">Its name within the layer, as checkpoints spell it after <c>model.layers.N.</c>.</param>
    /// <param name="Module">Where a layer holds it.</param>
    /// <param name="Shape">Its weight's [out, in] for a configuration.</param>
    public sealed record Entry(string Name, Func<DecoderLayer, nn.Module<Tensor, Tensor>> Module, Func<ModelConfig, (long Out, long In)> Shape);

    static long QueryWidth(ModelConfig c) => (long)c.NumAttentionHeads * c.HeadDim;
    static long KeyValueWidth(ModelConfig c) => (long)c.NumKeyValueHeads * c.HeadDim;

    /// <summary>q, k, v, o, gate, up, down.</summary>
    public static IReadOnlyList<Entry> All { get; } =
    [
        new("self_attn.q_proj", l => l.SelfAttn.QProj, c => (QueryWidth(c), c.HiddenSize)),
        new("self_attn.k_proj", l => l.SelfAttn.KProj, c => (KeyValueWidth(c), c.HiddenSize)),
        new("self_attn.v_proj", l => l.SelfAttn.VProj, c => (KeyValueWidth(c), c.HiddenSize)),
        new("self_attn.o_proj", l => l.SelfAttn.OProj, c => (c.HiddenSize, QueryWidth(c))),
        new("mlp.gate_proj", l => l.Mlp.GateProj, c => (c.IntermediateSize, c.HiddenSize)),
        new("mlp.up_proj", l => l.Mlp.UpProj, c => (c.IntermediateSize, c.HiddenSize)),
        new("mlp.down_proj", l => l.Mlp.DownProj, c => (c.HiddenSize, c.IntermediateSize)),
    ];

    /// <summary>The entry called <paramref name="name"/> within a layer, or null.</summary>
    public static Entry? Find(string name) => All.FirstOrDefault(e => e.Name == name);

    /// <summary>
    /// [out, in] of the Linear with the full checkpoint name <paramref name="name"/> (<c>model.layers.N.mlp.up_proj</c>,
    /// or <see cref="CausalLM.HeadName"/> when the head is not tied), or null when the model has no such Linear.
    /// </summary>
    public static long[]? Shape(ModelConfig config, string name)
    {
        if (name == CausalLM.HeadName) return config.TieWordEmbeddings ? null : [config.VocabSize, config.HiddenSize];
        const string layers = "model.layers.";
        if (!name.StartsWith(layers, StringComparison.Ordinal)) return null;
        int dot = name.IndexOf('.', layers.Length);
        if (dot < 0 || !int.TryParse(name.AsSpan(layers.Length, dot - layers.Length), out int layer) || layer < 0 || layer >= config.NumHiddenLayers)
            return null;
        return Find(name[(dot + 1)..]) is { } entry ? [entry.Shape(config).Out, entry.Shape(config).In] : null;
    }
}
