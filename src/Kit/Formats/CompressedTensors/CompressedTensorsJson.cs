using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Kit.Quantization;

namespace Kit.Formats.CompressedTensors;

/// <summary>
/// <see cref="CompressedTensorsConfig"/> to and from JSON. Writing emits only the keys compressed-tensors
/// 0.12 knows (its argument models forbid extra keys, and vLLM validates with whatever version is
/// installed), sorted as <c>json.dumps(sort_keys=True)</c> sorts them. Reading is lenient about keys
/// newer versions add (<c>scale_dtype</c>, <c>zp_dtype</c>) and strict about values.
/// </summary>
internal static class CompressedTensorsJson
{
    public static JsonObject Write(CompressedTensorsConfig config)
    {
        var groups = new JsonObject();
        for (int i = 0; i < config.Groups.Count; i++)
        {
            var g = config.Groups[i];
            groups[$"group_{i}"] = new JsonObject
            {
                ["format"] = config.FormatOf(g),
                ["input_activations"] = g.InputActivations is { } a ? Activations(a) : null,
                ["output_activations"] = null,
                ["targets"] = Strings(g.Targets),
                ["weights"] = Weights(g.Weights, g.ActOrder),
            };
        }
        var root = new JsonObject
        {
            ["config_groups"] = groups,
            ["format"] = config.Format,
            ["global_compression_ratio"] = null,
            ["ignore"] = Strings(config.Ignore),
            ["kv_cache_scheme"] = null,
            ["quant_method"] = CompressedTensorsFormats.QuantMethod,
            ["quantization_status"] = config.QuantizationStatus,
            ["sparsity_config"] = new JsonObject(),
            ["transform_config"] = new JsonObject(),
            ["version"] = config.Version,
        };
        return (JsonObject)Sorted(root)!;
    }

    static JsonObject Weights(QuantizationArgs w, ActOrder actOrder)
    {
        var kwargs = new JsonObject();
        if (w.Observer == QuantizationObserver.Mse)
        {
            // llm-compressor's mse observer takes the same three knobs under these names.
            kwargs["maxshrink"] = w.MseMaxShrink;
            kwargs["grid"] = w.MseGrid;
            kwargs["norm"] = w.MseNorm;
        }
        return new JsonObject
        {
            ["actorder"] = ActOrders.Name(actOrder),
            ["block_structure"] = null,
            ["dynamic"] = false,
            ["group_size"] = w.Strategy == QuantizationStrategy.Group ? w.GroupSize : null,
            ["num_bits"] = w.NumBits,
            ["observer"] = w.Observer == QuantizationObserver.Mse ? "mse" : "minmax",
            ["observer_kwargs"] = kwargs,
            ["strategy"] = w.Strategy.ToString().ToLowerInvariant(),
            ["symmetric"] = w.Symmetric,
            ["type"] = TypeName(w.Type),
        };
    }

    static JsonObject Activations(ActivationQuantization a) => new()
    {
        ["actorder"] = null,
        ["block_structure"] = null,
        ["dynamic"] = a.Dynamic,
        ["group_size"] = null,
        ["num_bits"] = a.NumBits,
        ["observer"] = a.Dynamic ? null : "minmax",
        ["observer_kwargs"] = new JsonObject(),
        ["strategy"] = a.Strategy,
        ["symmetric"] = a.Symmetric,
        ["type"] = TypeName(a.Type),
    };

    static string TypeName(QuantizationType type) => type == QuantizationType.Float ? "float" : "int";

    static JsonArray Strings(IEnumerable<string> values) => new(values.Select(v => (JsonNode?)JsonValue.Create(v)).ToArray());

    static JsonNode? Sorted(JsonNode? node) => node switch
    {
        JsonObject o => new JsonObject(o.OrderBy(p => p.Key, StringComparer.Ordinal)
            .Select(p => KeyValuePair.Create(p.Key, Sorted(p.Value)))),
        _ => node?.DeepClone(),
    };

    public static CompressedTensorsConfig Read(JsonNode? node, string source)
    {
        var root = node as JsonObject ?? throw Bad(source, "quantization_config", $"is {Kind(node)}, expected an object");
        string method = String(root, "quant_method", source, "quantization_config") ?? throw Bad(source, "quantization_config.quant_method", "is missing");
        if (method != CompressedTensorsFormats.QuantMethod)
            throw Bad(source, "quantization_config.quant_method", $"is '{method}', not '{CompressedTensorsFormats.QuantMethod}'");
        string format = String(root, "format", source, "quantization_config") ?? throw Bad(source, "quantization_config.format", "is missing");
        string status = String(root, "quantization_status", source, "quantization_config") ?? CompressedTensorsFormats.Compressed;
        string? version = String(root, "version", source, "quantization_config");

        var ignore = root["ignore"] is null ? [] : StringList(root["ignore"], source, "quantization_config.ignore");
        var groupsNode = root["config_groups"] as JsonObject ?? throw Bad(source, "quantization_config.config_groups", $"is {Kind(root["config_groups"])}, expected an object");
        var groups = new List<CompressedTensorsGroup>();
        foreach (var (name, value) in groupsNode)
        {
            string field = $"quantization_config.config_groups.{name}";
            var g = value as JsonObject ?? throw Bad(source, field, $"is {Kind(value)}, expected an object");
            var targets = StringList(g["targets"], source, field + ".targets");
            var weightsNode = g["weights"] as JsonObject ?? throw Bad(source, field + ".weights", $"is {Kind(g["weights"])}; Kit reads weight-quantized groups only");
            var (weights, actOrder) = ReadWeights(weightsNode, source, field + ".weights");
            var inputs = g["input_activations"] is JsonObject a ? ReadActivations(a, source, field + ".input_activations") : null;
            groups.Add(new CompressedTensorsGroup(targets, weights, actOrder, inputs, String(g, "format", source, field)));
        }
        if (groups.Count == 0) throw Bad(source, "quantization_config.config_groups", "is empty");
        return new CompressedTensorsConfig(format, groups, ignore) { QuantizationStatus = status, Version = version };
    }

    static (QuantizationArgs, ActOrder) ReadWeights(JsonObject w, string source, string field)
    {
        int bits = Int(w, "num_bits", source, field) ?? 8;
        var type = ReadType(w, source, field);
        bool symmetric = Bool(w, "symmetric", source, field) ?? true;
        int? groupSize = Int(w, "group_size", source, field);
        if (w["dynamic"] is JsonNode dynamic && !(dynamic.GetValueKind() == JsonValueKind.False))
            throw Bad(source, field + ".dynamic", $"is {dynamic.ToJsonString()}; stored weights need static (false) scales");
        if (w["block_structure"] is JsonNode block)
            throw Bad(source, field + ".block_structure", $"is {block.ToJsonString()}; block-quantized weights are not supported by Kit");
        // compressed-tensors infers a missing strategy from the group size.
        string strategyName = String(w, "strategy", source, field)?.ToLowerInvariant()
            ?? groupSize switch { null => "tensor", > 0 => "group", -1 => "channel", _ => throw Bad(source, field + ".group_size", $"is {groupSize}; use > 0 or -1") };
        var strategy = strategyName switch
        {
            "tensor" => QuantizationStrategy.Tensor,
            "channel" => QuantizationStrategy.Channel,
            "group" => QuantizationStrategy.Group,
            _ => throw Bad(source, field + ".strategy", $"is '{strategyName}'; Kit reads tensor, channel and group weight scales"),
        };
        var actOrder = w["actorder"] switch
        {
            null => ActOrder.None,
            JsonValue v when v.GetValueKind() == JsonValueKind.True => ActOrder.Group,
            JsonValue v when v.GetValueKind() == JsonValueKind.False => ActOrder.None,
            JsonValue v when v.GetValueKind() == JsonValueKind.String => v.GetValue<string>().ToLowerInvariant() switch
            {
                "group" or "dynamic" => ActOrder.Group,
                "weight" or "static" => ActOrder.Static,
                var other => throw Bad(source, field + ".actorder", $"is '{other}'; expected group, weight, dynamic, static or null"),
            },
            var other => throw Bad(source, field + ".actorder", $"is {other.ToJsonString()}; expected a string, a boolean or null"),
        };

        var args = new QuantizationArgs
        {
            NumBits = bits, Type = type, Symmetric = symmetric, Strategy = strategy,
            GroupSize = strategy == QuantizationStrategy.Group ? groupSize : null,
        };
        if (String(w, "observer", source, field) == "mse")
        {
            var kwargs = w["observer_kwargs"] as JsonObject;
            args = args with
            {
                Observer = QuantizationObserver.Mse,
                MseMaxShrink = kwargs is null ? args.MseMaxShrink : Double(kwargs, "maxshrink", source, field + ".observer_kwargs") ?? args.MseMaxShrink,
                MseGrid = kwargs is null ? args.MseGrid : Int(kwargs, "grid", source, field + ".observer_kwargs") ?? args.MseGrid,
                MseNorm = kwargs is null ? args.MseNorm : Double(kwargs, "norm", source, field + ".observer_kwargs") ?? args.MseNorm,
            };
        }
        try
        {
            return (args.Validated(), actOrder);
        }
        catch (ArgumentException e)
        {
            throw Bad(source, field, $"is not a grid Kit can hold ({e.Message})");
        }
    }

    static ActivationQuantization ReadActivations(JsonObject a, string source, string field) => new(
        Int(a, "num_bits", source, field) ?? 8,
        ReadType(a, source, field),
        Bool(a, "symmetric", source, field) ?? true,
        String(a, "strategy", source, field)?.ToLowerInvariant() ?? (Int(a, "group_size", source, field) is null ? "tensor" : "group"),
        a["dynamic"] is JsonValue d && d.GetValueKind() is JsonValueKind.True or JsonValueKind.String);

    static QuantizationType ReadType(JsonObject o, string source, string field) => (String(o, "type", source, field) ?? "int").ToLowerInvariant() switch
    {
        "int" => QuantizationType.Int,
        "float" => QuantizationType.Float,
        var other => throw Bad(source, field + ".type", $"is '{other}'; expected int or float"),
    };

    static string? String(JsonObject o, string key, string source, string field) => o[key] switch
    {
        null => null,
        JsonValue v when v.GetValueKind() == JsonValueKind.String => v.GetValue<string>(),
        var other => throw Bad(source, $"{field}.{key}", $"is {other.ToJsonString()}, expected a string"),
    };

    static int? Int(JsonObject o, string key, string source, string field) => o[key] switch
    {
        null => null,
        JsonValue v when v.GetValueKind() == JsonValueKind.Number && v.TryGetValue(out int i) => i,
        JsonValue v when v.GetValueKind() == JsonValueKind.Number && double.TryParse(v.ToJsonString(), NumberStyles.Float, CultureInfo.InvariantCulture, out double d)
            && d == Math.Floor(d) && Math.Abs(d) <= int.MaxValue => (int)d,
        var other => throw Bad(source, $"{field}.{key}", $"is {other.ToJsonString()}, expected an integer"),
    };

    static double? Double(JsonObject o, string key, string source, string field) => o[key] switch
    {
        null => null,
        JsonValue v when v.GetValueKind() == JsonValueKind.Number => double.Parse(v.ToJsonString(), CultureInfo.InvariantCulture),
        var other => throw Bad(source, $"{field}.{key}", $"is {other.ToJsonString()}, expected a number"),
    };

    static bool? Bool(JsonObject o, string key, string source, string field) => o[key] switch
    {
        null => null,
        JsonValue v when v.GetValueKind() is JsonValueKind.True or JsonValueKind.False => v.GetValue<bool>(),
        var other => throw Bad(source, $"{field}.{key}", $"is {other.ToJsonString()}, expected true or false"),
    };

    static IReadOnlyList<string> StringList(JsonNode? node, string source, string field)
    {
        var array = node as JsonArray ?? throw Bad(source, field, $"is {Kind(node)}, expected a list of strings");
        return array.Select((item, i) => item is JsonValue v && v.GetValueKind() == JsonValueKind.String
            ? v.GetValue<string>()
            : throw Bad(source, $"{field}[{i}]", $"is {Kind(item)}, expected a string")).ToArray();
    }

    static string Kind(JsonNode? node) => node is null ? "null or missing" : node.ToJsonString();

    static InvalidDataException Bad(string source, string field, string message) => new($"{source}: {field} {message}");
}
