using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using TorchSharp;

namespace Kit.Models.Safetensors;

/// <summary>
/// Writes safetensors files atomically: to <c>path.tmp-&lt;guid&gt;</c> first, renamed into place only
/// when complete, so an interrupted write never leaves a file that looks whole.
/// </summary>
public static unsafe class SafetensorsWriter
{
    /// <summary>How many bytes go to the stream per write when copying out of a tensor.</summary>
    const int ChunkBytes = 16 << 20;

    static readonly JsonWriterOptions JsonOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>Writes <paramref name="tensors"/>, in order, to <paramref name="path"/>, each stored as its own dtype.</summary>
    public static void Write(string path, IEnumerable<(string name, torch.Tensor tensor)> tensors,
        IReadOnlyDictionary<string, string>? metadata = null) =>
        Write(path, tensors.Select(t => new SafetensorsEntry(t.name, t.tensor)), metadata);

    /// <summary>Writes <paramref name="entries"/>, in order, to <paramref name="path"/> with <paramref name="metadata"/> as <c>__metadata__</c>.</summary>
    /// <exception cref="ArgumentException">A duplicate or reserved name, a dtype safetensors cannot store, or a <see cref="SafetensorsEntry.StoredAs"/> of the wrong size.</exception>
    public static void Write(string path, IEnumerable<SafetensorsEntry> entries, IReadOnlyDictionary<string, string>? metadata = null)
    {
        path = Path.GetFullPath(path);
        var planned = Plan(entries.ToList(), path);
        var header = Header(planned, metadata);
        WriteAtomically(path, stream =>
        {
            Span<byte> length = stackalloc byte[8];
            System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)header.Length);
            stream.Write(length);
            stream.Write(header);
            foreach (var (entry, _, _) in planned) WriteData(stream, entry.Tensor);
        });
    }

    /// <summary>
    /// Writes <paramref name="tensors"/> as Hugging Face shards <c>model-00001-of-0000N.safetensors</c>
    /// of at most <paramref name="maxShardBytes"/> data bytes each (a larger tensor gets a shard of its
    /// own), then <c>model.safetensors.index.json</c> last, so a folder whose index exists is complete.
    /// </summary>
    /// <returns>The full paths of the shards written.</returns>
    public static IReadOnlyList<string> WriteSharded(string folder, IEnumerable<(string name, torch.Tensor tensor)> tensors,
        long maxShardBytes, IReadOnlyDictionary<string, string>? metadata = null) =>
        WriteSharded(folder, tensors.Select(t => new SafetensorsEntry(t.name, t.tensor)), maxShardBytes, metadata);

    /// <summary>
    /// Writes <paramref name="entries"/> as shards plus an index; see the tuple overload. <paramref name="metadata"/>
    /// goes into every shard's <c>__metadata__</c> and, with <c>total_size</c>, into the index's <c>metadata</c>.
    /// </summary>
    /// <returns>The full paths of the shards written.</returns>
    public static IReadOnlyList<string> WriteSharded(string folder, IEnumerable<SafetensorsEntry> entries,
        long maxShardBytes, IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxShardBytes);
        folder = Path.GetFullPath(folder);
        Directory.CreateDirectory(folder);
        var single = Path.Combine(folder, SafetensorsCheckpoint.SingleFileName);
        // The reader prefers model.safetensors over an index, so the new shards would never be read.
        if (File.Exists(single))
            throw new IOException($"{folder}: already holds {SafetensorsCheckpoint.SingleFileName}, which readers would pick over the shards; remove it first");

        var all = entries.ToList();
        Plan(all, folder);
        var shards = new List<List<SafetensorsEntry>>();
        long shardBytes = 0;
        foreach (var entry in all)
        {
            long bytes = TensorMemory.ByteLength(entry.Tensor);
            if (shards.Count == 0 || (shardBytes + bytes > maxShardBytes && shards[^1].Count > 0))
            {
                shards.Add([]);
                shardBytes = 0;
            }
            shards[^1].Add(entry);
            shardBytes += bytes;
        }
        if (shards.Count == 0) shards.Add([]);

        var paths = new List<string>();
        var weightMap = new List<(string name, string shard)>();
        for (int i = 0; i < shards.Count; i++)
        {
            var name = string.Create(CultureInfo.InvariantCulture, $"model-{i + 1:D5}-of-{shards.Count:D5}.safetensors");
            var path = Path.Combine(folder, name);
            Write(path, shards[i], metadata);
            paths.Add(path);
            weightMap.AddRange(shards[i].Select(e => (e.Name, name)));
        }

        long totalSize = all.Sum(e => TensorMemory.ByteLength(e.Tensor));
        var index = Index(totalSize, metadata, weightMap);
        WriteAtomically(Path.Combine(folder, SafetensorsIndex.FileName), stream => stream.Write(index));
        return paths;
    }

    static List<(SafetensorsEntry entry, DType dtype, long length)> Plan(List<SafetensorsEntry> entries, string target)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        var planned = new List<(SafetensorsEntry, DType, long)>();
        foreach (var entry in entries)
        {
            if (entry.Name == "__metadata__")
                throw new ArgumentException($"{target}: '__metadata__' is reserved and cannot name a tensor", nameof(entries));
            if (!names.Add(entry.Name))
                throw new ArgumentException($"{target}: tensor '{entry.Name}' is given twice", nameof(entries));
            var own = DTypes.FromScalarType(entry.Tensor.dtype);
            var dtype = entry.StoredAs ?? own
                ?? throw new ArgumentException($"{target}: tensor '{entry.Name}' has dtype {entry.Tensor.dtype}, which safetensors cannot store", nameof(entries));
            if (dtype.ElementSize() != entry.Tensor.ElementSize)
                throw new ArgumentException(
                    $"{target}: tensor '{entry.Name}' has {entry.Tensor.ElementSize}-byte {entry.Tensor.dtype} elements but StoredAs {dtype} needs {dtype.ElementSize()}", nameof(entries));
            planned.Add((entry, dtype, TensorMemory.ByteLength(entry.Tensor)));
        }
        return planned;
    }

    // The header is padded with spaces to a multiple of 8 so that the data section starts aligned.
    static byte[] Header(List<(SafetensorsEntry entry, DType dtype, long length)> planned, IReadOnlyDictionary<string, string>? metadata)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, JsonOptions))
        {
            json.WriteStartObject();
            if (metadata is { Count: > 0 })
            {
                json.WriteStartObject("__metadata__");
                foreach (var (key, value) in metadata) json.WriteString(key, value);
                json.WriteEndObject();
            }
            long offset = 0;
            foreach (var (entry, dtype, length) in planned)
            {
                json.WriteStartObject(entry.Name);
                json.WriteString("dtype", dtype.Name());
                json.WriteStartArray("shape");
                foreach (var d in entry.Tensor.shape) json.WriteNumberValue(d);
                json.WriteEndArray();
                json.WriteStartArray("data_offsets");
                json.WriteNumberValue(offset);
                json.WriteNumberValue(offset + length);
                json.WriteEndArray();
                json.WriteEndObject();
                offset += length;
            }
            json.WriteEndObject();
        }
        while (buffer.Length % 8 != 0) buffer.WriteByte((byte)' ');
        return buffer.ToArray();
    }

    static byte[] Index(long totalSize, IReadOnlyDictionary<string, string>? metadata, List<(string name, string shard)> weightMap)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, JsonOptions with { Indented = true }))
        {
            json.WriteStartObject();
            json.WriteStartObject("metadata");
            if (metadata != null)
                foreach (var (key, value) in metadata.Where(m => m.Key != "total_size")) json.WriteString(key, value);
            json.WriteNumber("total_size", totalSize);
            json.WriteEndObject();
            json.WriteStartObject("weight_map");
            foreach (var (name, shard) in weightMap) json.WriteString(name, shard);
            json.WriteEndObject();
            json.WriteEndObject();
        }
        return buffer.ToArray();
    }

    static void WriteData(Stream stream, torch.Tensor tensor)
    {
        bool copy = tensor.device_type != DeviceType.CPU || !tensor.is_contiguous();
        var cpu = tensor;
        if (copy)
        {
            using var moved = tensor.to(torch.CPU);
            cpu = moved.contiguous();
        }
        try
        {
            byte* data = TensorMemory.Address(cpu);
            long length = TensorMemory.ByteLength(cpu);
            for (long offset = 0; offset < length; offset += ChunkBytes)
                stream.Write(new ReadOnlySpan<byte>(data + offset, (int)Math.Min(ChunkBytes, length - offset)));
        }
        finally
        {
            if (copy) cpu.Dispose();
        }
    }

    static void WriteAtomically(string path, Action<FileStream> write)
    {
        var temporary = $"{path}.tmp-{Guid.NewGuid():N}";
        try
        {
            using (var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20))
            {
                write(stream);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temporary, path, overwrite: true);
        }
        catch
        {
            File.Delete(temporary);
            throw;
        }
    }
}
