using System.Text.Json;

namespace Kit.Models.Tokenizers;

/// <summary>Reading the JSON files of a model folder with errors that name the file and the field.</summary>
internal static class JsonConfigFile
{
    /// <summary>Parses <paramref name="path"/>, or returns null when the file does not exist.</summary>
    public static JsonDocument? ReadIfExists(string path) => File.Exists(path) ? Read(path) : null;

    /// <summary>Parses <paramref name="path"/>.</summary>
    /// <exception cref="InvalidDataException">The file is not valid JSON or not a JSON object.</exception>
    public static JsonDocument Read(string path)
    {
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(File.ReadAllBytes(path), new JsonDocumentOptions { AllowTrailingCommas = true });
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path} is not valid JSON: {e.Message}", e);
        }
        if (doc.RootElement.ValueKind != JsonValueKind.Object)
        {
            doc.Dispose();
            throw new InvalidDataException($"{path}: expected a JSON object at the top level, found {doc.RootElement.ValueKind}");
        }
        return doc;
    }

    /// <summary>The property, or null when it is missing or JSON null.</summary>
    public static JsonElement? Optional(JsonElement obj, string name) =>
        obj.ValueKind == JsonValueKind.Object && obj.TryGetProperty(name, out var v) && v.ValueKind != JsonValueKind.Null ? v : null;

    /// <summary>The property, which must be present and of <paramref name="kind"/>.</summary>
    public static JsonElement Required(JsonElement obj, string name, JsonValueKind kind, string path, string field)
    {
        if (Optional(obj, name) is not { } v)
            throw new InvalidDataException($"{path}: missing field '{field}'");
        if (v.ValueKind != kind)
            throw new InvalidDataException($"{path}: field '{field}' should be {kind}, found {v.ValueKind}");
        return v;
    }

    /// <summary>A string property, or null when missing; anything else is an error naming the field.</summary>
    public static string? OptionalString(JsonElement obj, string name, string path, string field)
    {
        if (Optional(obj, name) is not { } v) return null;
        if (v.ValueKind != JsonValueKind.String)
            throw new InvalidDataException($"{path}: field '{field}' should be a string, found {v.ValueKind}");
        return v.GetString();
    }

    /// <summary>A boolean property, or null when missing.</summary>
    public static bool? OptionalBool(JsonElement obj, string name, string path)
    {
        if (Optional(obj, name) is not { } v) return null;
        return v.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw new InvalidDataException($"{path}: field '{name}' should be true or false, found {v.ValueKind}"),
        };
    }

    /// <summary>An id property that may be one integer or a list of them (<c>eos_token_id</c>).</summary>
    public static List<int> IdList(JsonElement obj, string name, string path)
    {
        var ids = new List<int>();
        if (Optional(obj, name) is not { } v) return ids;
        if (v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out int one)) ids.Add(one);
        else if (v.ValueKind == JsonValueKind.Array)
            foreach (var item in v.EnumerateArray())
            {
                if (item.ValueKind != JsonValueKind.Number || !item.TryGetInt32(out int id))
                    throw new InvalidDataException($"{path}: field '{name}' should hold integers, found {item}");
                ids.Add(id);
            }
        else throw new InvalidDataException($"{path}: field '{name}' should be an integer or a list of integers, found {v.ValueKind}");
        return ids;
    }

    /// <summary>
    /// A special-token property, written either as a string or as an object with <c>content</c>
    /// (transformers' serialized <c>AddedToken</c>).
    /// </summary>
    public static string? TokenText(JsonElement obj, string name, string path)
    {
        if (Optional(obj, name) is not { } v) return null;
        if (v.ValueKind == JsonValueKind.String) return v.GetString();
        if (v.ValueKind == JsonValueKind.Object)
            return OptionalString(v, "content", path, name + ".content")
                ?? throw new InvalidDataException($"{path}: field '{name}' is an object without 'content'");
        throw new InvalidDataException($"{path}: field '{name}' should be a string or an object with 'content', found {v.ValueKind}");
    }
}
