using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Kit.Data;

/// <summary>
/// One record of a dataset file (a JSON object or a Parquet row) with where it came from, so that a wrong or
/// missing field is reported as <c>file line N: field 'x' …</c>.
/// </summary>
/// <param name="Fields">The record; nested Parquet structs and lists appear as JSON objects and arrays.</param>
/// <param name="Where">The file and line, item or row.</param>
public sealed record DataRecord(JsonObject Fields, string Where)
{
    /// <summary>A string field; <paramref name="name"/> may name a struct member as <c>outer.inner</c>.</summary>
    /// <exception cref="InvalidDataException">The field is missing, null, or not a string.</exception>
    public string String(string name) => Field(name) is JsonValue v && v.GetValueKind() == JsonValueKind.String
        ? v.GetValue<string>()
        : throw Wrong(name, "a string");

    /// <summary>A list-of-strings field; <paramref name="name"/> may name a struct member as <c>outer.inner</c>.</summary>
    /// <exception cref="InvalidDataException">The field is missing or not a list of strings.</exception>
    public IReadOnlyList<string> Strings(string name) => Field(name) is JsonArray items
        && items.All(i => i is JsonValue v && v.GetValueKind() == JsonValueKind.String)
        ? items.Select(i => i!.GetValue<string>()).ToList()
        : throw Wrong(name, "a list of strings");

    /// <summary>
    /// A whole-number field written as a number or as a string of digits (the hub's HellaSwag stores
    /// <c>label</c> as "3", PIQA as 3).
    /// </summary>
    /// <exception cref="InvalidDataException">The field is missing or not a whole number.</exception>
    public long Integer(string name)
    {
        var field = Field(name);
        if (field is JsonValue v)
        {
            if (v.GetValueKind() == JsonValueKind.Number && v.TryGetValue(out long number)) return number;
            if (v.GetValueKind() == JsonValueKind.Number && v.TryGetValue(out double real) && real == Math.Floor(real)
                && Math.Abs(real) < long.MaxValue) return (long)real;
            if (v.GetValueKind() == JsonValueKind.String
                && long.TryParse(v.GetValue<string>(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long parsed)) return parsed;
        }
        throw Wrong(name, "a whole number");
    }

    JsonNode? Field(string name)
    {
        JsonNode? node = Fields;
        foreach (string part in name.Split('.'))
            node = node is JsonObject o && o.TryGetPropertyValue(part, out var child) ? child : null;
        return node;
    }

    InvalidDataException Wrong(string name, string expected)
    {
        var field = Field(name);
        if (field is not null)
            return new InvalidDataException($"{Where}: field '{name}' is {JsonRecordFile.Kind(field.GetValueKind())} ({Shorten(field.ToJsonString())}), not {expected}");
        string has = Fields.Count == 0 ? "no fields at all" : string.Join(", ", Fields.Select(p => $"'{p.Key}'"));
        return new InvalidDataException($"{Where}: no field '{name}' (or it is null); the record has {has}");
    }

    static string Shorten(string json) => json.Length <= 60 ? json : json[..57] + "...";
}
