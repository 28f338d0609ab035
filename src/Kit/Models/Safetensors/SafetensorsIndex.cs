using System.Text.Json;

namespace Kit.Models.Safetensors;

/// <summary>
/// A parsed <c>model.safetensors.index.json</c>: <c>{"metadata": {...}, "weight_map": {tensor: shard file}}</c>.
/// </summary>
/// <param name="Metadata">The <c>metadata</c> block; numbers (such as <c>total_size</c>) keep their JSON text.</param>
/// <param name="WeightMap">Tensor name to shard file name, in the index's order.</param>
internal sealed record SafetensorsIndex(IReadOnlyDictionary<string, string> Metadata, IReadOnlyList<KeyValuePair<string, string>> WeightMap)
{
    /// <summary>The file name Hugging Face gives a sharded checkpoint's index.</summary>
    public const string FileName = "model.safetensors.index.json";

    /// <summary>Reads and checks the index at <paramref name="path"/>; errors name the file and the field.</summary>
    public static SafetensorsIndex Read(string path)
    {
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(File.ReadAllBytes(path));
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: not valid JSON ({e.Message})", e);
        }
        using (doc)
        {
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
                throw new InvalidDataException($"{path}: a JSON {root.ValueKind}, expected an object");

            var metadata = new Dictionary<string, string>();
            if (root.TryGetProperty("metadata", out var meta) && meta.ValueKind != JsonValueKind.Null)
            {
                if (meta.ValueKind != JsonValueKind.Object)
                    throw new InvalidDataException($"{path}: metadata is a JSON {meta.ValueKind}, expected an object");
                foreach (var entry in meta.EnumerateObject())
                    metadata[entry.Name] = entry.Value.ValueKind == JsonValueKind.String ? entry.Value.GetString()! : entry.Value.GetRawText();
            }

            if (!root.TryGetProperty("weight_map", out var map) || map.ValueKind != JsonValueKind.Object)
                throw new InvalidDataException($"{path}: weight_map is missing or not an object");
            var weightMap = new List<KeyValuePair<string, string>>();
            var seen = new HashSet<string>();
            foreach (var entry in map.EnumerateObject())
            {
                if (!seen.Add(entry.Name))
                    throw new InvalidDataException($"{path}: weight_map names tensor '{entry.Name}' twice");
                if (entry.Value.ValueKind != JsonValueKind.String)
                    throw new InvalidDataException($"{path}: weight_map['{entry.Name}'] is a JSON {entry.Value.ValueKind}, expected a shard file name");
                var shard = entry.Value.GetString()!;
                // Shards sit beside the index; a path would let an index read files outside the checkpoint.
                if (shard.Length == 0 || shard != Path.GetFileName(shard) || shard is "." or "..")
                    throw new InvalidDataException($"{path}: weight_map['{entry.Name}'] = '{shard}' is not a file name in the checkpoint folder");
                weightMap.Add(new(entry.Name, shard));
            }
            return new SafetensorsIndex(metadata, weightMap);
        }
    }
}
