using System.IO.Compression;
using System.Text.Json;

namespace Kit.Data;

/// <summary>
/// The records of a JSON file: JSON Lines (one value per line, as the hub stores many datasets, <c>.jsonl</c> or
/// <c>.json</c>) or one JSON array; <c>.gz</c> files are decompressed on the fly.
/// </summary>
internal static class JsonRecordFile
{
    /// <summary>
    /// Each record with where it is (<c>file line N</c> or <c>file item N</c>) for error messages; an element is
    /// valid only until the enumeration moves on (clone it to keep it).
    /// </summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">A line or the file is not valid JSON.</exception>
    public static IEnumerable<(JsonElement Record, string Where)> Read(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"JSON file not found: {path}", path);
        return IsArray(path) ? ArrayRecords(path) : LineRecords(path);
    }

    static StreamReader OpenText(string path)
    {
        Stream stream = File.OpenRead(path);
        if (path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase)) stream = new GZipStream(stream, CompressionMode.Decompress);
        return new StreamReader(stream);
    }

    static bool IsArray(string path)
    {
        using var reader = OpenText(path);
        while (reader.ReadLine() is { } line)
            if (line.TrimStart() is { Length: > 0 } content) return content[0] == '[';
        return false;
    }

    static IEnumerable<(JsonElement Record, string Where)> LineRecords(string path)
    {
        using var reader = OpenText(path);
        int number = 0;
        while (reader.ReadLine() is { } line)
        {
            number++;
            if (string.IsNullOrWhiteSpace(line)) continue;
            JsonDocument parsed;
            try { parsed = JsonDocument.Parse(line); }
            catch (JsonException e) { throw new InvalidDataException($"{path} line {number}: not valid JSON ({e.Message})", e); }
            using (parsed) yield return (parsed.RootElement, $"{path} line {number}");
        }
    }

    static IEnumerable<(JsonElement Record, string Where)> ArrayRecords(string path)
    {
        JsonDocument parsed;
        using (var reader = OpenText(path))
        {
            try { parsed = JsonDocument.Parse(reader.ReadToEnd()); }
            catch (JsonException e) { throw new InvalidDataException($"{path}: not valid JSON ({e.Message})", e); }
        }
        using (parsed)
        {
            int index = 0;
            foreach (var record in parsed.RootElement.EnumerateArray())
                yield return (record, $"{path} item {index++}");
        }
    }

    /// <summary>"an object", "a list", … for messages that say what was found instead.</summary>
    public static string Kind(JsonValueKind kind) => kind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "a list",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        JsonValueKind.String => "a string",
        _ => "null",
    };
}
