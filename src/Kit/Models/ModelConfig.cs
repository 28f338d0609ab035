using System.Text.Json;
using System.Text.Json.Nodes;

namespace Kit.Models;

/// <summary>How rotary position embeddings are scaled beyond the trained context (config.json "rope_scaling").</summary>
/// <param name="Type">"default", "linear" or "llama3".</param>
/// <param name="Factor">The context extension factor.</param>
/// <param name="LowFreqFactor">Llama 3: wavelengths longer than original/low_freq_factor are fully scaled.</param>
/// <param name="HighFreqFactor">Llama 3: wavelengths shorter than original/high_freq_factor are kept.</param>
/// <param name="OriginalMaxPositionEmbeddings">Llama 3: the context length the model was pre-trained with.</param>
public sealed record RopeScaling(string Type, double Factor, double LowFreqFactor = 1, double HighFreqFactor = 4,
    int OriginalMaxPositionEmbeddings = 8192);

/// <summary>
/// The architecture of a Llama-family model as read from a Hugging Face <c>config.json</c>.
/// Llama 2/3, Mistral, Qwen2, SmolLM and TinyLlama all fit this shape: RMSNorm, rotary embeddings,
/// grouped-query attention, a SwiGLU MLP; they differ in biases, rope settings and tied embeddings.
/// </summary>
public sealed record ModelConfig
{
    /// <summary>The Hugging Face <c>model_type</c>: llama, mistral or qwen2.</summary>
    public required string ModelType { get; init; }
    /// <summary>Width of the residual stream.</summary>
    public required int HiddenSize { get; init; }
    /// <summary>Width of the MLP's hidden layer.</summary>
    public required int IntermediateSize { get; init; }
    /// <summary>Number of decoder layers.</summary>
    public required int NumHiddenLayers { get; init; }
    /// <summary>Number of query heads.</summary>
    public required int NumAttentionHeads { get; init; }
    /// <summary>Number of key/value heads (grouped-query attention when fewer than query heads).</summary>
    public required int NumKeyValueHeads { get; init; }
    /// <summary>Size of one attention head.</summary>
    public required int HeadDim { get; init; }
    /// <summary>Vocabulary size (rows of the embedding).</summary>
    public required int VocabSize { get; init; }
    /// <summary>The longest context the model supports.</summary>
    public int MaxPositionEmbeddings { get; init; } = 2048;
    /// <summary>RMSNorm epsilon.</summary>
    public double RmsNormEps { get; init; } = 1e-6;
    /// <summary>Rotary base frequency.</summary>
    public double RopeTheta { get; init; } = 10000;
    /// <summary>Rotary scaling, or null for none.</summary>
    public RopeScaling? RopeScaling { get; init; }
    /// <summary>Whether q/k/v projections carry biases (always for Qwen2).</summary>
    public bool AttentionQkvBias { get; init; }
    /// <summary>Whether the attention output projection carries a bias.</summary>
    public bool AttentionOutputBias { get; init; }
    /// <summary>Whether the MLP projections carry biases.</summary>
    public bool MlpBias { get; init; }
    /// <summary>Whether the output head shares the token embedding matrix.</summary>
    public bool TieWordEmbeddings { get; init; }
    /// <summary>Mistral's sliding attention window, or null.</summary>
    public int? SlidingWindow { get; init; }
    /// <summary>Beginning-of-sequence token id from config.json, if any.</summary>
    public int? BosTokenId { get; init; }
    /// <summary>End-of-sequence token ids from config.json.</summary>
    public IReadOnlyList<int> EosTokenIds { get; init; } = Array.Empty<int>();
    /// <summary>The dtype the checkpoint was saved in ("float32", "bfloat16", ...).</summary>
    public string TorchDtype { get; init; } = "float32";

    /// <summary><see cref="TorchDtype"/> as a tensor dtype: bfloat16 or float16 as named, float32 for anything else.</summary>
    public TorchSharp.torch.ScalarType CheckpointDType => TorchDtype switch
    {
        "bfloat16" => TorchSharp.torch.ScalarType.BFloat16,
        "float16" => TorchSharp.torch.ScalarType.Float16,
        _ => TorchSharp.torch.ScalarType.Float32,
    };

    /// <summary>The model types this architecture implements.</summary>
    public static IReadOnlyList<string> SupportedModelTypes { get; } = new[] { "llama", "mistral", "qwen2" };

    /// <summary>Reads and validates <c>config.json</c>.</summary>
    public static ModelConfig Load(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"model config not found: {path}", path);
        JsonObject json;
        try { json = JsonNode.Parse(File.ReadAllText(path)) as JsonObject ?? throw new InvalidDataException($"{path}: not a JSON object"); }
        catch (JsonException e) { throw new InvalidDataException($"{path}: invalid JSON ({e.Message})", e); }
        return FromJson(json, path);
    }

    /// <summary>Builds a config from the JSON object of a config.json; <paramref name="source"/> names it in errors.</summary>
    public static ModelConfig FromJson(JsonObject json, string source = "config.json")
    {
        var type = Str(json, "model_type", source)
            ?? throw new InvalidDataException($"{source}: missing 'model_type'");
        if (!SupportedModelTypes.Contains(type))
            throw new NotSupportedException($"{source}: model_type '{type}' is not supported (supported: {string.Join(", ", SupportedModelTypes)})");
        var act = Str(json, "hidden_act", source) ?? "silu";
        if (act != "silu")
            throw new NotSupportedException($"{source}: hidden_act '{act}' is not supported (Llama-family models use silu)");

        int hidden = Int(json, "hidden_size", source) ?? throw Missing("hidden_size", source);
        int heads = Int(json, "num_attention_heads", source) ?? throw Missing("num_attention_heads", source);
        int kvHeads = Int(json, "num_key_value_heads", source) ?? heads;
        int headDim = Int(json, "head_dim", source) ?? (hidden / heads);
        if (heads <= 0 || kvHeads <= 0 || heads % kvHeads != 0)
            throw new InvalidDataException($"{source}: num_attention_heads ({heads}) must be a positive multiple of num_key_value_heads ({kvHeads})");
        if (headDim <= 0 || headDim % 2 != 0)
            throw new InvalidDataException($"{source}: head_dim ({headDim}) must be positive and even for rotary embeddings");

        bool qwen2 = type == "qwen2";
        bool attentionBias = Bool(json, "attention_bias", source) ?? false;
        var config = new ModelConfig
        {
            ModelType = type,
            HiddenSize = Positive(hidden, "hidden_size", source),
            IntermediateSize = Positive(Int(json, "intermediate_size", source) ?? throw Missing("intermediate_size", source), "intermediate_size", source),
            NumHiddenLayers = Positive(Int(json, "num_hidden_layers", source) ?? throw Missing("num_hidden_layers", source), "num_hidden_layers", source),
            NumAttentionHeads = heads,
            NumKeyValueHeads = kvHeads,
            HeadDim = headDim,
            VocabSize = Positive(Int(json, "vocab_size", source) ?? throw Missing("vocab_size", source), "vocab_size", source),
            MaxPositionEmbeddings = Int(json, "max_position_embeddings", source) ?? 2048,
            RmsNormEps = Num(json, "rms_norm_eps", source) ?? 1e-6,
            RopeTheta = Num(json, "rope_theta", source) ?? 10000,
            RopeScaling = ReadRopeScaling(json, source),
            // Qwen2 always has q/k/v biases and no o_proj bias; Llama's attention_bias covers all four.
            AttentionQkvBias = qwen2 || attentionBias,
            AttentionOutputBias = !qwen2 && attentionBias,
            MlpBias = Bool(json, "mlp_bias", source) ?? false,
            TieWordEmbeddings = Bool(json, "tie_word_embeddings", source) ?? false,
            SlidingWindow = (Bool(json, "use_sliding_window", source) ?? !qwen2) ? Int(json, "sliding_window", source) : null,
            BosTokenId = Int(json, "bos_token_id", source),
            EosTokenIds = IntList(json, "eos_token_id", source),
            TorchDtype = Str(json, "torch_dtype", source) ?? Str(json, "dtype", source) ?? "float32",
        };
        return config;
    }

    /// <summary>Writes this config as a Hugging Face config.json object.</summary>
    public JsonObject ToJson()
    {
        var json = new JsonObject
        {
            ["architectures"] = new JsonArray(ModelType switch { "mistral" => "MistralForCausalLM", "qwen2" => "Qwen2ForCausalLM", _ => "LlamaForCausalLM" }),
            ["model_type"] = ModelType,
            ["hidden_size"] = HiddenSize,
            ["intermediate_size"] = IntermediateSize,
            ["num_hidden_layers"] = NumHiddenLayers,
            ["num_attention_heads"] = NumAttentionHeads,
            ["num_key_value_heads"] = NumKeyValueHeads,
            ["head_dim"] = HeadDim,
            ["vocab_size"] = VocabSize,
            ["max_position_embeddings"] = MaxPositionEmbeddings,
            ["hidden_act"] = "silu",
            ["rms_norm_eps"] = RmsNormEps,
            ["rope_theta"] = RopeTheta,
            ["rope_scaling"] = RopeScaling is null ? null : new JsonObject
            {
                ["rope_type"] = RopeScaling.Type,
                ["factor"] = RopeScaling.Factor,
                ["low_freq_factor"] = RopeScaling.LowFreqFactor,
                ["high_freq_factor"] = RopeScaling.HighFreqFactor,
                ["original_max_position_embeddings"] = RopeScaling.OriginalMaxPositionEmbeddings,
            },
            ["tie_word_embeddings"] = TieWordEmbeddings,
            ["mlp_bias"] = MlpBias,
            ["torch_dtype"] = TorchDtype,
        };
        if (ModelType != "qwen2") json["attention_bias"] = AttentionQkvBias;
        if (SlidingWindow is int w) json["sliding_window"] = w;
        if (BosTokenId is int bos) json["bos_token_id"] = bos;
        if (EosTokenIds.Count == 1) json["eos_token_id"] = EosTokenIds[0];
        else if (EosTokenIds.Count > 1) json["eos_token_id"] = new JsonArray(EosTokenIds.Select(i => (JsonNode)i).ToArray());
        return json;
    }

    /// <summary>Number of parameters, counting a tied embedding once.</summary>
    public long ParameterCount
    {
        get
        {
            long q = (long)NumAttentionHeads * HeadDim, kv = (long)NumKeyValueHeads * HeadDim;
            long attention = HiddenSize * q + 2 * HiddenSize * kv + q * HiddenSize
                + (AttentionQkvBias ? q + 2 * kv : 0) + (AttentionOutputBias ? HiddenSize : 0);
            long mlp = 3L * HiddenSize * IntermediateSize + (MlpBias ? 2L * IntermediateSize + HiddenSize : 0);
            long layer = attention + mlp + 2L * HiddenSize;
            long embed = (long)VocabSize * HiddenSize;
            return NumHiddenLayers * layer + embed + HiddenSize + (TieWordEmbeddings ? 0 : embed);
        }
    }

    static RopeScaling? ReadRopeScaling(JsonObject json, string source)
    {
        if (json["rope_scaling"] is not JsonObject rs) return null;
        string type = (rs["rope_type"] ?? rs["type"])?.GetValue<string>() ?? "default";
        double factor = rs["factor"]?.GetValue<double>() ?? 1;
        return type switch
        {
            "default" => null,
            "linear" => new RopeScaling("linear", factor),
            "llama3" => new RopeScaling("llama3", factor,
                rs["low_freq_factor"]?.GetValue<double>() ?? throw Missing("rope_scaling.low_freq_factor", source),
                rs["high_freq_factor"]?.GetValue<double>() ?? throw Missing("rope_scaling.high_freq_factor", source),
                rs["original_max_position_embeddings"]?.GetValue<int>() ?? throw Missing("rope_scaling.original_max_position_embeddings", source)),
            _ => throw new NotSupportedException($"{source}: rope_scaling type '{type}' is not supported (supported: linear, llama3)"),
        };
    }

    static InvalidDataException Missing(string key, string source) => new($"{source}: missing '{key}'");

    static int Positive(int value, string key, string source) =>
        value > 0 ? value : throw new InvalidDataException($"{source}: '{key}' must be positive, got {value}");

    static JsonNode? Node(JsonObject json, string key) => json.TryGetPropertyValue(key, out var n) ? n : null;

    static string? Str(JsonObject json, string key, string source) => Read(json, key, source, n => n.GetValue<string>());
    static int? Int(JsonObject json, string key, string source) => Read(json, key, source, n => (int?)n.GetValue<int>());
    static double? Num(JsonObject json, string key, string source) => Read(json, key, source, n => (double?)n.GetValue<double>());
    static bool? Bool(JsonObject json, string key, string source) => Read(json, key, source, n => (bool?)n.GetValue<bool>());

    static IReadOnlyList<int> IntList(JsonObject json, string key, string source) => Node(json, key) switch
    {
        null => Array.Empty<int>(),
        JsonArray a => a.Select(n => n?.GetValue<int>() ?? throw new InvalidDataException($"{source}: '{key}' has a null entry")).ToArray(),
        var n => new[] { Read(json, key, source, x => x.GetValue<int>()) },
    };

    static T? Read<T>(JsonObject json, string key, string source, Func<JsonNode, T> get)
    {
        var node = Node(json, key);
        if (node is null) return default;
        try { return get(node); }
        catch (Exception e) when (e is InvalidOperationException or FormatException)
        {
            throw new InvalidDataException($"{source}: '{key}' has the wrong type ({node.ToJsonString()})", e);
        }
    }
}
