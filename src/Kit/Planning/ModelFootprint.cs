using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Kit.Planning;

/// <summary>
/// What a model is made of, for sizing a deployment: its parameter matrices by component and the shape of its
/// KV cache. Built from a config.json (<see cref="FromConfig"/>, <see cref="Load"/>) or from a bare parameter
/// count (<see cref="FromParameterCount"/>).
/// </summary>
public sealed record ModelFootprint
{
    /// <summary>Where the figures come from: a config path, a hub id, or "N parameters" for a bare count.</summary>
    public required string Source { get; init; }

    /// <summary>The config's model_type, or null for a bare parameter count.</summary>
    public string? ModelType { get; init; }

    /// <summary>
    /// The folder or hub id an inference engine loads the model from (what <c>vllm serve</c> takes), or null when only a
    /// parameter count or a config object is known.
    /// </summary>
    public string? Location { get; init; }

    /// <summary>The parameter matrices, grouped by shape and component.</summary>
    public required IReadOnlyList<WeightTensor> Tensors { get; init; }

    /// <summary>The KV cache's shape, or null when unknown (a bare parameter count without layers, KV heads and head dim).</summary>
    public AttentionLayout? Attention { get; init; }

    /// <summary>The longest context the config allows (max_position_embeddings), if given.</summary>
    public long? MaxContext { get; init; }

    /// <summary>Routed experts per MoE layer, or null for dense models.</summary>
    public int? Experts { get; init; }

    /// <summary>Routed experts each token uses, or null for dense models.</summary>
    public int? ExpertsPerToken { get; init; }

    /// <summary>Parameters a text token passes through (MoE: attention, the shared expert and the top-k routed experts, embeddings and lm_head); null for dense models.</summary>
    public long? ActiveParameters { get; init; }

    /// <summary>What the count includes or leaves out, in words.</summary>
    public IReadOnlyList<string> Notes { get; init; } = [];

    /// <summary>All parameters.</summary>
    public long Parameters => Tensors.Sum(t => t.Parameters);

    /// <summary>Parameters per component, in the order the components first appear.</summary>
    public IReadOnlyList<KeyValuePair<string, long>> ParametersByComponent =>
        Tensors.GroupBy(t => t.Component).Select(g => KeyValuePair.Create(g.Key, g.Sum(t => t.Parameters))).ToArray();

    /// <summary>The model types <see cref="FromConfig"/> can count.</summary>
    public static IReadOnlyList<string> SupportedModelTypes { get; } = [.. DenseDecoderCount.ModelTypes, .. Llama4Count.ModelTypes];

    /// <summary>Reads a config.json file.</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">The file is not a JSON object, or a field is missing or wrong (the message names it).</exception>
    /// <exception cref="NotSupportedException">The model_type is not one of <see cref="SupportedModelTypes"/>.</exception>
    public static ModelFootprint Load(string configPath, string? source = null)
    {
        if (!File.Exists(configPath)) throw new FileNotFoundException($"model config not found: {configPath}", configPath);
        JsonObject json;
        try { json = JsonNode.Parse(File.ReadAllText(configPath)) as JsonObject ?? throw new InvalidDataException($"{configPath}: not a JSON object"); }
        catch (JsonException e) { throw new InvalidDataException($"{configPath}: invalid JSON ({e.Message})", e); }
        return FromConfig(json, source ?? configPath);
    }

    /// <summary>Counts the parameters of a config.json object; <paramref name="source"/> names it in errors and output.</summary>
    /// <exception cref="InvalidDataException">A field is missing or wrong (the message names it).</exception>
    /// <exception cref="NotSupportedException">The model_type is not one of <see cref="SupportedModelTypes"/>.</exception>
    public static ModelFootprint FromConfig(JsonObject config, string source = "config.json")
    {
        ArgumentNullException.ThrowIfNull(config);
        string type = ConfigFields.String(config, "model_type", source) ?? throw new InvalidDataException($"{source}: missing 'model_type'");
        if (DenseDecoderCount.ModelTypes.Contains(type)) return DenseDecoderCount.Count(config, type, source);
        if (Llama4Count.ModelTypes.Contains(type)) return Llama4Count.Count(config, type, source);
        throw new NotSupportedException($"{source}: model_type '{type}' cannot be counted (supported: {string.Join(", ", SupportedModelTypes)})");
    }

    /// <summary>
    /// A model known only by its parameter count. Every parameter is taken to be a quantizable Linear weight of an
    /// assumed <see cref="AssumedWidth"/>-column matrix (for counting scales and group indices), since nothing
    /// tells embeddings and norms apart; <paramref name="attention"/> gives the KV cache's shape when known.
    /// </summary>
    public static ModelFootprint FromParameterCount(long parameters, AttentionLayout? attention = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(parameters);
        var tensors = new List<WeightTensor>();
        if (parameters / AssumedWidth > 0) tensors.Add(new("all parameters", parameters / AssumedWidth, AssumedWidth, 1, true));
        if (parameters % AssumedWidth > 0) tensors.Add(new("all parameters", 1, parameters % AssumedWidth, 1, true));
        return new ModelFootprint
        {
            Source = $"{parameters.ToString("N0", CultureInfo.InvariantCulture)} parameters",
            Tensors = tensors,
            Attention = attention?.Validated(),
            Notes = [$"no config: every parameter is counted at the format's width (embeddings and norms are not told apart) in {AssumedWidth}-column matrices"],
        };
    }

    /// <summary>The matrix width a bare parameter count is assumed to have.</summary>
    public const int AssumedWidth = 4096;
}
