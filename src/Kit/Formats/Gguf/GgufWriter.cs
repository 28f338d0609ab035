using System.Text;

namespace Kit.Formats.Gguf;

/// <summary>
/// Writes GGUF version 3 files (<c>docs/gguf.md</c> of llama.cpp): little-endian header, metadata, tensor
/// infos with ggml-order dimensions and data offsets aligned to <see cref="Alignment"/>, then the tensor
/// data, each tensor zero-padded to the alignment. The file is written to a temporary name and renamed
/// into place when complete, so an interrupted export never leaves a file that looks whole.
/// </summary>
public static class GgufWriter
{
    /// <summary>The alignment of the data section and of every tensor (GGUF's default when <c>general.alignment</c> is absent).</summary>
    public const int Alignment = 32;
    /// <summary>The format version written.</summary>
    public const uint Version = 3;
    /// <summary>The longest tensor name in UTF-8 bytes (ggml's GGML_MAX_NAME is 64 with the terminator).</summary>
    public const int MaxNameBytes = 63;

    /// <summary>The magic bytes "GGUF" read as a little-endian uint32.</summary>
    public const uint Magic = 0x46554747;

    /// <summary>Writes <paramref name="metadata"/> (in order) and <paramref name="tensors"/> (in order) to <paramref name="path"/>.</summary>
    /// <exception cref="ArgumentException">A duplicate key or name, a name too long, a shape ggml cannot hold, or data of the wrong length.</exception>
    public static void Write(string path, IReadOnlyList<KeyValuePair<string, GgufValue>> metadata, IReadOnlyList<GgufTensorData> tensors)
    {
        path = Path.GetFullPath(path);
        Validate(path, metadata, tensors);
        string temp = $"{path}.tmp-{Guid.NewGuid():N}";
        try
        {
            using (var file = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20))
            using (var w = new BinaryWriter(file, Encoding.UTF8, leaveOpen: false))
            {
                w.Write(Magic);
                w.Write(Version);
                w.Write((ulong)tensors.Count);
                w.Write((ulong)metadata.Count);
                foreach (var (key, value) in metadata)
                {
                    WriteString(w, key);
                    w.Write((uint)value.Type);
                    WriteValue(w, value.Type, value.ElementType, value.Value, key);
                }
                long offset = 0;
                foreach (var t in tensors)
                {
                    WriteString(w, t.Name);
                    w.Write((uint)t.Shape.Count);
                    for (int d = t.Shape.Count - 1; d >= 0; d--) w.Write((ulong)t.Shape[d]);
                    w.Write((uint)t.Type);
                    w.Write((ulong)offset);
                    offset += Padded(t.ByteCount);
                }
                Pad(w);
                foreach (var t in tensors)
                {
                    var bytes = t.Data();
                    if (bytes.LongLength != t.ByteCount)
                        throw new ArgumentException($"{path}: tensor '{t.Name}' produced {bytes.LongLength} bytes, its shape and type {t.Type} need {t.ByteCount}");
                    w.Write(bytes);
                    Pad(w);
                }
            }
            File.Move(temp, path, overwrite: true);
        }
        catch
        {
            if (File.Exists(temp)) File.Delete(temp);
            throw;
        }
    }

    static void Validate(string path, IReadOnlyList<KeyValuePair<string, GgufValue>> metadata, IReadOnlyList<GgufTensorData> tensors)
    {
        var keys = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (key, _) in metadata)
            if (string.IsNullOrEmpty(key) || !keys.Add(key))
                throw new ArgumentException($"{path}: metadata key '{key}' is empty or repeated", nameof(metadata));
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var t in tensors)
        {
            if (!names.Add(t.Name)) throw new ArgumentException($"{path}: tensor name '{t.Name}' is repeated", nameof(tensors));
            if (t.Name.Length == 0 || Encoding.UTF8.GetByteCount(t.Name) > MaxNameBytes)
                throw new ArgumentException($"{path}: tensor name '{t.Name}' must have 1 to {MaxNameBytes} UTF-8 bytes", nameof(tensors));
            if (t.Shape.Count is < 1 or > 4 || t.Shape.Any(d => d <= 0))
                throw new ArgumentException($"{path}: tensor '{t.Name}' has shape [{string.Join(", ", t.Shape)}]; ggml needs 1 to 4 positive dimensions", nameof(tensors));
            int block = GgmlQuants.ElementsPerBlock(t.Type);
            if (t.Shape[^1] % block != 0)
                throw new ArgumentException($"{path}: tensor '{t.Name}' has rows of {t.Shape[^1]} values; {t.Type} blocks need a multiple of {block}", nameof(tensors));
            _ = GgmlQuants.BytesPerBlock(t.Type);
        }
    }

    static long Padded(long bytes) => (bytes + Alignment - 1) / Alignment * Alignment;

    static void Pad(BinaryWriter w)
    {
        long position = w.BaseStream.Position;
        for (long i = position; i < Padded(position); i++) w.Write((byte)0);
    }

    static void WriteString(BinaryWriter w, string s)
    {
        var bytes = Encoding.UTF8.GetBytes(s);
        w.Write((ulong)bytes.Length);
        w.Write(bytes);
    }

    static void WriteValue(BinaryWriter w, GgufValueType type, GgufValueType elementType, object value, string key)
    {
        switch (type)
        {
            case GgufValueType.UInt8: w.Write((byte)value); break;
            case GgufValueType.Int8: w.Write((sbyte)value); break;
            case GgufValueType.UInt16: w.Write((ushort)value); break;
            case GgufValueType.Int16: w.Write((short)value); break;
            case GgufValueType.UInt32: w.Write((uint)value); break;
            case GgufValueType.Int32: w.Write((int)value); break;
            case GgufValueType.Float32: w.Write((float)value); break;
            case GgufValueType.Bool: w.Write((bool)value ? (byte)1 : (byte)0); break;
            case GgufValueType.String: WriteString(w, (string)value); break;
            case GgufValueType.UInt64: w.Write((ulong)value); break;
            case GgufValueType.Int64: w.Write((long)value); break;
            case GgufValueType.Float64: w.Write((double)value); break;
            case GgufValueType.Array:
                if (elementType == GgufValueType.Array)
                    throw new ArgumentException($"metadata '{key}': arrays of arrays are not written", nameof(value));
                var array = (Array)value;
                w.Write((uint)elementType);
                w.Write((ulong)array.Length);
                foreach (var item in array) WriteValue(w, elementType, GgufValueType.UInt8, item!, key);
                break;
            default: throw new ArgumentException($"metadata '{key}': unknown GGUF value type {type}", nameof(value));
        }
    }
}
