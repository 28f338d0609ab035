using System.Text.Json.Nodes;

namespace Kit.Planning;

/// <summary>
/// Parameters of Llama 4 (<c>Llama4ForConditionalGeneration</c>, model_type <c>llama4</c>, text model under
/// <c>text_config</c>; or the text-only <c>llama4_text</c>), following transformers' <c>modeling_llama4.py</c>:
/// <list type="bullet">
/// <item>every layer: q/k/v/o projections and two RMSNorms (the q/k L2 norm has no weights);</item>
/// <item>MoE layers (<c>moe_layers</c>, else every <c>interleave_moe_layer_step</c>-th from step−1): <c>num_local_experts</c>
/// SwiGLU experts of width <c>intermediate_size</c>, a router (E × H) and one shared expert of the same width;</item>
/// <item>the other layers: a dense SwiGLU MLP of width <c>intermediate_size_mlp</c>;</item>
/// <item>the vision tower when <c>vision_config</c> gives its sizes: unfold-patch Linear, class and position
/// embeddings, pre/post LayerNorms, ViT layers with biased q/k/v/o and fc1/fc2, the pixel-shuffle adapter
/// (fc1: intermediate_size → projector_input_dim, fc2: projector_output_dim²) and the projector to the text width.</item>
/// </list>
/// KV cache: RoPE layers (<c>no_rope_layers[i] = 1</c>) use chunked attention and keep at most
/// <c>attention_chunk_size</c> tokens; the NoPE layers attend to everything.
/// </summary>
internal static class Llama4Count
{
    public static readonly string[] ModelTypes = ["llama4", "llama4_text"];

    public static ModelFootprint Count(JsonObject root, string type, string source)
    {
        var text = type == "llama4"
            ? ConfigFields.Object(root, "text_config", source) ?? throw new InvalidDataException($"{source}: missing 'text_config' (model_type llama4)")
            : root;
        string t = type == "llama4" ? $"{source} text_config" : source;
        long hidden = ConfigFields.Required(text, "hidden_size", t);
        long expertWidth = ConfigFields.Optional(text, "intermediate_size", t, 8192);
        long denseWidth = ConfigFields.Optional(text, "intermediate_size_mlp", t, 16384);
        int layers = (int)ConfigFields.Required(text, "num_hidden_layers", t);
        long vocab = ConfigFields.Required(text, "vocab_size", t);
        long heads = ConfigFields.Required(text, "num_attention_heads", t);
        long kvHeads = ConfigFields.Optional(text, "num_key_value_heads", t, heads);
        long headDim = ConfigFields.Optional(text, "head_dim", t, hidden / heads);
        long experts = ConfigFields.Optional(text, "num_local_experts", t, 16);
        long active = ConfigFields.Optional(text, "num_experts_per_tok", t, 1);
        long step = ConfigFields.Optional(text, "interleave_moe_layer_step", t, 1);
        bool bias = ConfigFields.Bool(text, "attention_bias", t) ?? false;
        bool tied = ConfigFields.Bool(root, "tie_word_embeddings", source) ?? ConfigFields.Bool(text, "tie_word_embeddings", t) ?? false;

        var moeLayers = ConfigFields.LongList(text, "moe_layers", t) is { } listed
            ? listed.ToHashSet()
            : Enumerable.Range(0, layers).Where(i => (i - (step - 1)) % step == 0 && i >= step - 1).Select(i => (long)i).ToHashSet();
        if (moeLayers.Any(i => i < 0 || i >= layers))
            throw new InvalidDataException($"{t}: 'moe_layers' lists a layer outside 0..{layers - 1}");
        long moe = moeLayers.Count, dense = layers - moe;

        var tensors = new List<WeightTensor> { new("embeddings", vocab, hidden, 1, false) };
        tensors.AddRange(DenseDecoderCount.AttentionTensors(hidden, heads, kvHeads, headDim, layers));
        if (bias) tensors.Add(new("attention", (heads + 2 * kvHeads) * headDim + hidden, 1, layers, false));
        if (dense > 0) tensors.AddRange(DenseDecoderCount.MlpTensors("mlp", hidden, denseWidth, dense));
        if (moe > 0)
        {
            tensors.AddRange(DenseDecoderCount.MlpTensors("experts", hidden, expertWidth, experts * moe));
            tensors.AddRange(DenseDecoderCount.MlpTensors("shared experts", hidden, expertWidth, moe));
            tensors.Add(new("router", experts, hidden, moe, false));
        }
        tensors.Add(new("norms", hidden, 1, 2L * layers + 1, false));
        if (!tied) tensors.Add(new("lm_head", vocab, hidden, 1, false));

        long expertParams = 3 * hidden * expertWidth;
        long textParams = tensors.Sum(x => x.Parameters);
        var notes = new List<string>();
        if (type == "llama4")
        {
            if (ConfigFields.Object(root, "vision_config", source) is { } vision && VisionTensors(vision, hidden, $"{source} vision_config") is { } tower)
                tensors.AddRange(tower);
            else
                notes.Add("vision tower excluded: vision_config lacks its sizes (hidden_size, intermediate_size, num_hidden_layers, image_size, patch_size, vision_output_dim)");
        }

        return new ModelFootprint
        {
            Source = source,
            ModelType = type,
            Tensors = tensors,
            Attention = new AttentionLayout((int)heads, (int)kvHeads, (int)headDim, Windows(text, layers, t)).Validated(),
            MaxContext = ConfigFields.Long(text, "max_position_embeddings", t),
            Experts = (int)experts,
            ExpertsPerToken = (int)active,
            // A text token passes the shared expert and its top-k routed experts, not the vision tower.
            ActiveParameters = textParams - moe * (experts - Math.Min(active, experts)) * expertParams,
            Notes = notes,
        };
    }

    static int?[] Windows(JsonObject text, int layers, string source)
    {
        long? chunk = text.ContainsKey("attention_chunk_size") ? ConfigFields.Long(text, "attention_chunk_size", source) : 8192;
        var windows = new int?[layers];
        if (chunk is not > 0) return windows;
        long interval = ConfigFields.Optional(text, "no_rope_layer_interval", source, 4);
        // transformers falls back to the interval when the list is missing or empty.
        var rope = ConfigFields.LongList(text, "no_rope_layers", source) is { Count: > 0 } listed
            ? listed
            : Enumerable.Range(0, layers).Select(i => (i + 1) % interval != 0 ? 1L : 0L).ToArray();
        if (rope.Count < layers)
            throw new InvalidDataException($"{source}: 'no_rope_layers' has {rope.Count} entries for {layers} layers");
        for (int i = 0; i < layers; i++)
            if (rope[i] != 0) windows[i] = (int)chunk.Value;
        return windows;
    }

    static List<WeightTensor>? VisionTensors(JsonObject v, long textHidden, string source)
    {
        string[] needed = ["hidden_size", "intermediate_size", "num_hidden_layers", "image_size", "patch_size", "vision_output_dim"];
        if (needed.Any(f => !v.ContainsKey(f))) return null;
        long h = ConfigFields.Required(v, "hidden_size", source);
        long inner = ConfigFields.Required(v, "intermediate_size", source);
        long layers = ConfigFields.Required(v, "num_hidden_layers", source);
        long image = ConfigFields.Required(v, "image_size", source);
        long patch = ConfigFields.Required(v, "patch_size", source);
        long output = ConfigFields.Required(v, "vision_output_dim", source);
        long channels = ConfigFields.Optional(v, "num_channels", source, 3);
        long projectorIn = ConfigFields.Optional(v, "projector_input_dim", source, 4096);
        long projectorOut = ConfigFields.Optional(v, "projector_output_dim", source, 4096);
        bool projectorBias = ConfigFields.Bool(v, "multi_modal_projector_bias", source) ?? false;
        long patches = (image / patch) * (image / patch) + 1;
        const string c = "vision tower";
        var tower = new List<WeightTensor>
        {
            new(c, h, channels * patch * patch, 1, false),      // patch embedding (no bias)
            new(c, patches + 1, h, 1, false),                   // position embeddings and the class embedding
            new(c, 4 * h, 1, 1, false),                         // layernorm_pre and layernorm_post, weight and bias
            new(c, h, h, 4 * layers, false),                    // q, k, v, o
            new(c, inner, h, layers, false),                    // fc1
            new(c, h, inner, layers, false),                    // fc2
            new(c, 4 * h + inner + h + 4 * h, 1, layers, false), // q/k/v/o, fc1, fc2 biases and two LayerNorms
            new(c, projectorIn, inner, 1, false),               // adapter fc1
            new(c, projectorOut, projectorOut, 1, false),       // adapter fc2
            new(c, textHidden, output, 1, false),               // multi-modal projector
        };
        if (projectorBias) tower.Add(new(c, textHidden, 1, 1, false));
        return tower;
    }
}
