using System.Text.Json;

namespace Kit.Models.Safetensors;

/// <summary>A parsed and validated safetensors header: metadata and tensors in storage order.</summary>
internal sealed record SafetensorsHeader(IReadOnlyDictionary<string, string> Metadata, IReadOnlyList<TensorInfo> Tensors)
{
    /// <summary>The reference implementation's ceiling; a larger length means a corrupt or hostile file.</summary>
    public const long MaxHeaderLength = 100_000_000;

    const string MetadataKey = "__metadata__";

    /// <summary>
    /// Parses the JSON header and checks every entry against a data section of
    /// <paramref name="dataLength"/> bytes. Errors name <paramref name="path"/> and the offending entry.
    /// </summary>
    public static SafetensorsHeader Parse(ReadOnlySpan<byte> json, long dataLength, string path)
    {
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(json.ToArray());
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: header is not valid JSON ({e.Message})", e);
        }
        using (doc)
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
                throw new InvalidDataException($"{path}: header is a JSON {doc.RootElement.ValueKind}, expected an object");

            var metadata = new Dictionary<string, string>();
            var tensors = new List<TensorInfo>();
            var seen = new HashSet<string>();
            foreach (var property in doc.RootElement.EnumerateObject())
            {
                if (!seen.Add(property.Name))
                    throw new InvalidDataException($"{path}: header names '{property.Name}' twice");
                if (property.Name == MetadataKey)
                    ReadMetadata(property.Value, metadata, path);
                else
                    tensors.Add(ReadTensor(property.Name, property.Value, dataLength, path));
            }

            tensors.Sort((a, b) => a.Begin != b.Begin ? a.Begin.CompareTo(b.Begin) : a.End.CompareTo(b.End));
            CheckNoOverlap(tensors, path);
            return new SafetensorsHeader(metadata, tensors);
        }
    }

    static void ReadMetadata(JsonElement value, Dictionary<string, string> metadata, string path)
    {
        if (value.ValueKind != JsonValueKind.Object)
            throw new InvalidDataException($"{path}: {MetadataKey} is a JSON {value.ValueKind}, expected an object of strings");
        foreach (var entry in value.EnumerateObject())
        {
            if (entry.Value.ValueKind != JsonValueKind.String)
                throw new InvalidDataException($"{path}: {MetadataKey}.{entry.Name} is a JSON {entry.Value.ValueKind}, expected a string");
            metadata[entry.Name] = entry.Value.GetString()!;
        }
    }

    static TensorInfo ReadTensor(string name, JsonElement value, long dataLength, string path)
    {
        string where = $"{path}: tensor '{name}'";
        if (value.ValueKind != JsonValueKind.Object)
            throw new InvalidDataException($"{where} is a JSON {value.ValueKind}, expected an object");

        if (!value.TryGetProperty("dtype", out var dtypeElement) || dtypeElement.ValueKind != JsonValueKind.String)
            throw new InvalidDataException($"{where}: dtype is missing or not a string");
        var dtypeName = dtypeElement.GetString()!;
        var dtype = DTypes.Parse(dtypeName)
            ?? throw new InvalidDataException($"{where}: dtype '{dtypeName}' is not supported (known: {string.Join(", ", Enum.GetNames<DType>())})");

        var shape = ReadLongs(value, "shape", where);
        if (shape.Any(d => d < 0))
            throw new InvalidDataException($"{where}: shape [{string.Join(", ", shape)}] has a negative dimension");
        var offsets = ReadLongs(value, "data_offsets", where);
        if (offsets.Length != 2)
            throw new InvalidDataException($"{where}: data_offsets has {offsets.Length} numbers, expected [begin, end]");
        long begin = offsets[0], end = offsets[1];
        if (begin < 0 || end < begin)
            throw new InvalidDataException($"{where}: data_offsets [{begin}, {end}] is not a range");
        if (end > dataLength)
            throw new InvalidDataException($"{where}: data_offsets [{begin}, {end}] run past the data section of {dataLength} bytes");

        long expected;
        try
        {
            expected = checked(shape.Aggregate(1L, (n, d) => n * d) * dtype.ElementSize());
        }
        catch (OverflowException)
        {
            throw new InvalidDataException($"{where}: shape [{string.Join(", ", shape)}] overflows a 64-bit byte count");
        }
        if (end - begin != expected)
            throw new InvalidDataException(
                $"{where}: data_offsets [{begin}, {end}] span {end - begin} bytes but {dtypeName} [{string.Join(", ", shape)}] needs {expected}");

        return new TensorInfo(name, dtype, shape, begin, end);
    }

    static long[] ReadLongs(JsonElement value, string field, string where)
    {
        if (!value.TryGetProperty(field, out var array) || array.ValueKind != JsonValueKind.Array)
            throw new InvalidDataException($"{where}: {field} is missing or not an array");
        var result = new long[array.GetArrayLength()];
        int i = 0;
        foreach (var item in array.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Number || !item.TryGetInt64(out result[i++]))
                throw new InvalidDataException($"{where}: {field} holds {item.GetRawText()}, expected integers");
        }
        return result;
    }

    // Gaps between tensors are tolerated (they cost nothing to skip); shared bytes are not, since
    // writing one tensor in place would silently change another.
    static void CheckNoOverlap(List<TensorInfo> sorted, string path)
    {
        TensorInfo? previous = null;
        foreach (var t in sorted)
        {
            if (t.ByteLength == 0) continue;
            if (previous != null && t.Begin < previous.End)
                throw new InvalidDataException(
                    $"{path}: tensor '{t.Name}' data_offsets [{t.Begin}, {t.End}] overlap tensor '{previous.Name}' [{previous.Begin}, {previous.End}]");
            previous = t;
        }
    }
}
