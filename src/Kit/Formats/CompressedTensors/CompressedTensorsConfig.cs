using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Kit.Quantization;

namespace Kit.Formats.CompressedTensors;

/// <summary>
/// A <c>quantization_config</c> block of <c>config.json</c> with <c>quant_method: compressed-tensors</c>:
/// the storage format, the config groups and the modules left alone.
/// </summary>
/// <param name="Format">The top-level format (<c>pack-quantized</c>, <c>int-quantized</c>, <c>float-quantized</c>, ...).</param>
/// <param name="Groups">The config groups, written as <c>group_0</c>, <c>group_1</c>, ...</param>
/// <param name="Ignore">Module names or <c>re:</c> regexes that are not quantized.</param>
public sealed record CompressedTensorsConfig(string Format, IReadOnlyList<CompressedTensorsGroup> Groups, IReadOnlyList<string> Ignore)
{
    /// <summary><c>quantization_status</c>; only <see cref="CompressedTensorsFormats.Compressed"/> checkpoints hold packed tensors.</summary>
    public string QuantizationStatus { get; init; } = CompressedTensorsFormats.Compressed;

    /// <summary>The compressed-tensors <c>version</c> recorded.</summary>
    public string? Version { get; init; } = CompressedTensorsFormats.Version;

    /// <summary>
    /// The config vLLM needs for a model compressed with <paramref name="recipe"/>, or null when the recipe
    /// quantizes nothing (pruning alone: the model is saved dense and needs no <c>quantization_config</c>).
    /// The format follows the scheme: integer weight-only grids (W4A16, W8A16, W4A16_ASYM) are
    /// <c>pack-quantized</c>, int8 weights with int8 activations (W8A8) <c>int-quantized</c>, FP8 weights
    /// <c>float-quantized</c>. Static activation scales (FP8's <c>input_scale</c>) are not calibrated by Kit and refused.
    /// </summary>
    /// <exception cref="ArgumentException">A scheme vLLM would refuse to serve; the message names the recipe field.</exception>
    public static CompressedTensorsConfig? FromRecipe(CompressionRecipe recipe)
    {
        ArgumentNullException.ThrowIfNull(recipe);
        recipe.Validated();
        if (recipe.Weights is not { } weights) return null;
        var actOrder = recipe.ActOrder;
        if (actOrder == ActOrder.Group && weights.Strategy != QuantizationStrategy.Group)
            throw Bad("ActOrder", $"act-order 'group' regroups columns and needs the group strategy, got {weights.Strategy}");
        // compressed-tensors refuses any actorder without groups; "static" only changed calibration anyway.
        // RTN visits no columns in any order, so its config says none (as llm-compressor's QuantizationModifier).
        if (weights.Strategy != QuantizationStrategy.Group || recipe.Method != CompressionMethod.Gptq) actOrder = ActOrder.None;

        var (format, inputs) = weights.Type == QuantizationType.Float ? Fp8(weights, recipe.InputActivations) : Int(weights, recipe.InputActivations);
        var targets = recipe.Targets.Select(ForVllm).ToList();
        var ignore = recipe.Ignore.Select(ForVllm).ToList();
        // vLLM matches the class-name target "Linear" only against its LinearBase layers, and its lm_head is not one:
        // a quantized head is named as a target of its own. A head that the recipe only prunes stays dense: ignored.
        if (recipe.Quantizes("lm_head") && !targets.Contains("lm_head")) targets.Add("lm_head");
        else if (!recipe.Quantizes("lm_head") && recipe.Applies("lm_head")) ignore.Add("lm_head");
        var group = new CompressedTensorsGroup(targets.ToArray(), weights, actOrder, inputs);
        return new CompressedTensorsConfig(format, [group], ignore);
    }

    static (string, ActivationQuantization?) Int(QuantizationArgs weights, string? activations)
    {
        switch (activations)
        {
            case null:
                // vLLM's weight-only integer kernels (CompressedTensorsWNA16) take 4- and 8-bit packed weights,
                // one scale per channel or per group.
                if (weights.NumBits is not (4 or 8))
                    throw Bad("Weights.NumBits", $"pack-quantized (vLLM's WNA16 kernels) takes 4- or 8-bit weights, got {weights.NumBits}");
                if (weights.Strategy == QuantizationStrategy.Tensor)
                    throw Bad("Weights.Strategy", "weight-only integer quantization in vLLM needs per-channel or per-group scales, got one scale per tensor");
                return (CompressedTensorsFormats.PackQuantized, null);
            case "int8-dynamic-token":
                if (weights.NumBits != 8)
                    throw Bad("Weights.NumBits", $"int8 activations are served with 8-bit weights (W8A8); {weights.NumBits}-bit weights with int8 activations (W4A8) have no format Kit writes, use W4A16");
                if (!weights.Symmetric)
                    throw Bad("Weights.Symmetric", "vLLM's W8A8 int8 kernels take symmetric weights only");
                if (weights.Strategy == QuantizationStrategy.Group)
                    throw Bad("Weights.Strategy", "vLLM's W8A8 int8 kernels take one weight scale per tensor or per channel, not per group");
                return (CompressedTensorsFormats.IntQuantized, ActivationQuantization.Int8DynamicToken);
            default:
                throw Bad("InputActivations", $"'{activations}' activations with integer weights (W4AFP8) have no format Kit writes; use W4A16, W8A16 or W8A8");
        }
    }

    static (string, ActivationQuantization?) Fp8(QuantizationArgs weights, string? activations)
    {
        if (weights.Strategy == QuantizationStrategy.Group)
            throw Bad("Weights.Strategy", "vLLM's FP8 layers take one weight scale per tensor or per channel; FP8 with groups is not served (FP8_BLOCK's 128×128 blocks are a different layout)");
        return activations switch
        {
            null => (CompressedTensorsFormats.FloatQuantized, null),
            "fp8-dynamic-token" => (CompressedTensorsFormats.FloatQuantized, ActivationQuantization.Fp8DynamicToken),
            _ => throw Bad("InputActivations", $"'{activations}' activations with FP8 weights are not a compressed-tensors scheme; use FP8 or FP8_DYNAMIC"),
        };
    }

    // vLLM matches a plain target or ignore entry against the full module name only, while Kit's recipe
    // also accepts a name suffix (q_proj, mlp.down_proj): those become the regex Kit means.
    static string ForVllm(string pattern) =>
        pattern.StartsWith("re:", StringComparison.Ordinal) || pattern is "Linear" or "lm_head" || pattern.StartsWith("model.", StringComparison.Ordinal)
            ? pattern
            : @"re:(.*\.)?" + Regex.Escape(pattern) + "$";

    static ArgumentException Bad(string field, string message) => new($"CompressionRecipe.{field}: {message}", field);

    /// <summary>The format the tensors of <paramref name="group"/> are stored in.</summary>
    /// <exception cref="InvalidDataException">A mixed-precision config whose group names no format.</exception>
    public string FormatOf(CompressedTensorsGroup group) =>
        group.Format ?? (Format != CompressedTensorsFormats.MixedPrecision ? Format
            : throw new InvalidDataException($"quantization_config.format is {Format} but a config group has no format of its own"));

    /// <summary>
    /// The group whose targets match the Linear <paramref name="module"/> (full name), as vLLM picks one:
    /// an exact name or a <c>re:</c> regex (matched from the start, as Python's <c>re.match</c>), else a
    /// class-name target <c>Linear</c>; null when no group targets it or it is ignored.
    /// </summary>
    public CompressedTensorsGroup? GroupOf(string module)
    {
        if (Ignore.Any(p => NameMatches(p, module))) return null;
        return Groups.FirstOrDefault(g => g.Targets.Any(t => NameMatches(t, module)))
            ?? Groups.FirstOrDefault(g => g.Targets.Contains("Linear"));
    }

    static bool NameMatches(string pattern, string module) =>
        pattern.StartsWith("re:", StringComparison.Ordinal)
            ? Regex.IsMatch(module, @"\A(?:" + pattern[3..] + ")")
            : pattern == module;

    /// <summary>The <c>quantization_config</c> object, keys sorted as compressed-tensors writes them.</summary>
    public JsonObject ToJson() => CompressedTensorsJson.Write(this);

    /// <summary>
    /// Reads a <c>quantization_config</c> object; <paramref name="source"/> (e.g. the config.json path)
    /// prefixes every error, which also names the offending field.
    /// </summary>
    /// <exception cref="InvalidDataException">Not compressed-tensors, a missing or malformed field, or a scheme Kit cannot represent.</exception>
    public static CompressedTensorsConfig Parse(JsonNode? node, string source) => CompressedTensorsJson.Read(node, source);
}
