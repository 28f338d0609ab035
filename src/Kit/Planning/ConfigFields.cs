using System.Text.Json;
using System.Text.Json.Nodes;

namespace Kit.Planning;

/// <summary>Reads config.json fields, with errors that name the file and the field.</summary>
internal static class ConfigFields
{
    public static long? Long(JsonObject json, string field, string source)
    {
        if (json[field] is not { } node) return null;
        if (node is JsonValue v && v.TryGetValue(out long l)) return l;
        if (node is JsonValue d && d.TryGetValue(out double x) && x == Math.Floor(x) && Math.Abs(x) < 9e15) return (long)x;
        throw new InvalidDataException($"{source}: '{field}' must be an integer, got {node.ToJsonString()}");
    }

    public static long Required(JsonObject json, string field, string source) =>
        Positive(Long(json, field, source) ?? throw new InvalidDataException($"{source}: missing '{field}'"), field, source);

    public static long Optional(JsonObject json, string field, string source, long fallback) =>
        Positive(Long(json, field, source) ?? fallback, field, source);

    public static bool? Bool(JsonObject json, string field, string source)
    {
        if (json[field] is not { } node) return null;
        if (node.GetValueKind() is JsonValueKind.True or JsonValueKind.False) return node.GetValue<bool>();
        throw new InvalidDataException($"{source}: '{field}' must be true or false, got {node.ToJsonString()}");
    }

    public static string? String(JsonObject json, string field, string source)
    {
        if (json[field] is not { } node) return null;
        if (node.GetValueKind() == JsonValueKind.String) return node.GetValue<string>();
        throw new InvalidDataException($"{source}: '{field}' must be a string, got {node.ToJsonString()}");
    }

    public static IReadOnlyList<long>? LongList(JsonObject json, string field, string source)
    {
        if (json[field] is not { } node) return null;
        if (node is not JsonArray array)
            throw new InvalidDataException($"{source}: '{field}' must be a list of integers, got {node.ToJsonString()}");
        return array.Select(item => item is JsonValue v && v.TryGetValue(out long l)
            ? l
            : throw new InvalidDataException($"{source}: '{field}' must be a list of integers, got {node.ToJsonString()}")).ToArray();
    }

    public static JsonObject? Object(JsonObject json, string field, string source)
    {
        if (json[field] is not { } node) return null;
        return node as JsonObject ?? throw new InvalidDataException($"{source}: '{field}' must be an object, got {node.ToJsonString()}");
    }

    static long Positive(long value, string field, string source) =>
        value > 0 ? value : throw new InvalidDataException($"{source}: '{field}' must be positive, got {value}");
}
