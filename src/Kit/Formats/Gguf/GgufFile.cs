using System.Text;
using Microsoft.Win32.SafeHandles;
using static TorchSharp.torch;

namespace Kit.Formats.Gguf;

/// <summary>
/// A GGUF file (version 2 or 3) opened for reading: its metadata and tensor infos are parsed at once,
/// tensor data is read from disk on request. Errors name the file and the field that is wrong.
/// </summary>
public sealed class GgufFile
{
    readonly Dictionary<string, GgufTensorInfo> _byName;

    GgufFile(string path, uint version, int alignment, IReadOnlyList<KeyValuePair<string, GgufValue>> metadata,
        IReadOnlyList<GgufTensorInfo> tensors, long dataOffset)
    {
        (Path, Version, Alignment, MetadataList, Tensors, DataOffset) = (path, version, alignment, metadata, tensors, dataOffset);
        Metadata = metadata.ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.Ordinal);
        _byName = tensors.ToDictionary(t => t.Name, StringComparer.Ordinal);
    }

    /// <summary>The file.</summary>
    public string Path { get; }
    /// <summary>The format version (2 or 3).</summary>
    public uint Version { get; }
    /// <summary>The data alignment: <c>general.alignment</c>, or 32.</summary>
    public int Alignment { get; }
    /// <summary>The metadata by key.</summary>
    public IReadOnlyDictionary<string, GgufValue> Metadata { get; }
    /// <summary>The metadata in file order.</summary>
    public IReadOnlyList<KeyValuePair<string, GgufValue>> MetadataList { get; }
    /// <summary>The tensor infos in file order.</summary>
    public IReadOnlyList<GgufTensorInfo> Tensors { get; }
    /// <summary>Where the data section starts in the file.</summary>
    public long DataOffset { get; }

    /// <summary>Reads the header, metadata and tensor infos of <paramref name="path"/> and checks that every tensor lies inside the file.</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">Not a GGUF file, an unsupported version, truncated, or a field out of range; the message names it.</exception>
    public static GgufFile Open(string path)
    {
        path = System.IO.Path.GetFullPath(path);
        if (!File.Exists(path)) throw new FileNotFoundException($"GGUF file not found: {path}", path);
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        var r = new GgufBinaryReader(stream, path);
        uint magic = r.UInt32("magic");
        if (magic != GgufWriter.Magic)
            throw new InvalidDataException($"{path} is not a GGUF file: it starts with bytes {Hex(magic)}, a GGUF file with 47 47 55 46 (\"GGUF\")");
        uint version = r.UInt32("version");
        if (version is not (2 or 3))
            throw new InvalidDataException(version == 1
                ? $"{path}: GGUF version 1 is not supported (re-convert the model with a current llama.cpp)"
                : $"{path}: GGUF version {version} is not supported (Kit reads versions 2 and 3; a big-endian file reads as {Hex(version)})");
        long tensorCount = r.Count("tensor_count");
        long kvCount = r.Count("metadata_kv_count");

        var metadata = new List<KeyValuePair<string, GgufValue>>();
        var keys = new HashSet<string>(StringComparer.Ordinal);
        for (long i = 0; i < kvCount; i++)
        {
            string key = r.String($"metadata key #{i}");
            if (!keys.Add(key)) throw new InvalidDataException($"{path}: metadata key '{key}' appears twice");
            var type = r.ValueType(key);
            metadata.Add(new(key, r.Value(type, key)));
        }

        int alignment = 32;
        if (metadata.FirstOrDefault(kv => kv.Key == "general.alignment").Value is { } a)
        {
            long value = a.Type == GgufValueType.UInt32 ? a.AsInteger("general.alignment")
                : throw new InvalidDataException($"{path}: 'general.alignment' should be a uint32, found {a.Type}");
            if (value <= 0 || (value & (value - 1)) != 0)
                throw new InvalidDataException($"{path}: 'general.alignment' must be a power of two, got {value}");
            alignment = (int)value;
        }

        var tensors = new List<GgufTensorInfo>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        for (long i = 0; i < tensorCount; i++)
        {
            string name = r.String($"name of tensor #{i}");
            if (!names.Add(name)) throw new InvalidDataException($"{path}: tensor '{name}' appears twice");
            uint dims = r.UInt32($"n_dims of tensor '{name}'");
            if (dims is < 1 or > 4) throw new InvalidDataException($"{path}: tensor '{name}' has {dims} dimensions; ggml allows 1 to 4");
            var ne = new long[dims];
            for (int d = 0; d < dims; d++)
            {
                ulong n = r.UInt64($"ne[{d}] of tensor '{name}'");
                if (n == 0 || n > long.MaxValue / 4) throw new InvalidDataException($"{path}: tensor '{name}' has dimension ne[{d}] = {n}");
                ne[d] = (long)n;
            }
            uint type = r.UInt32($"type of tensor '{name}'");
            if (!Enum.IsDefined(typeof(GgmlType), type))
                throw new InvalidDataException($"{path}: tensor '{name}' has ggml type {type} ({GgmlTypeNames.Of(type)}), which Kit does not read (it reads F32, F16, BF16, Q8_0, Q4_0 and Q4_1)");
            var ggmlType = (GgmlType)type;
            if (ne[0] % GgmlQuants.ElementsPerBlock(ggmlType) != 0)
                throw new InvalidDataException($"{path}: tensor '{name}' has rows of {ne[0]} values, not a multiple of the {ggmlType} block size {GgmlQuants.ElementsPerBlock(ggmlType)}");
            ulong offset = r.UInt64($"offset of tensor '{name}'");
            if (offset % (ulong)alignment != 0)
                throw new InvalidDataException($"{path}: tensor '{name}' has data offset {offset}, not a multiple of the alignment {alignment}");
            tensors.Add(new GgufTensorInfo(name, ne, ggmlType, (long)offset));
        }

        long dataOffset = (stream.Position + alignment - 1) / alignment * alignment;
        long dataBytes = stream.Length - dataOffset;
        foreach (var t in tensors)
        {
            long bytes;
            try { bytes = t.ByteCount; }
            catch (OverflowException) { throw new InvalidDataException($"{path}: tensor '{t.Name}' is too large"); }
            if (t.Offset > dataBytes || bytes > dataBytes - t.Offset)
                throw new InvalidDataException($"{path}: tensor '{t.Name}' needs bytes {t.Offset}..{t.Offset + bytes} of the data section, " +
                    $"which holds {Math.Max(0, dataBytes)} (the file is truncated)");
        }
        return new GgufFile(path, version, alignment, metadata, tensors, dataOffset);
    }

    /// <summary>Whether the file holds a tensor named <paramref name="name"/>.</summary>
    public bool Contains(string name) => _byName.ContainsKey(name);

    /// <summary>The info of tensor <paramref name="name"/>.</summary>
    public GgufTensorInfo Tensor(string name) =>
        _byName.TryGetValue(name, out var t) ? t : throw new KeyNotFoundException($"{Path}: no tensor named '{name}'");

    /// <summary>The metadata value of <paramref name="key"/>, or null.</summary>
    public GgufValue? Get(string key) => Metadata.TryGetValue(key, out var v) ? v : null;

    /// <summary>The metadata value of <paramref name="key"/>, or an exception naming the file and key.</summary>
    public GgufValue Require(string key) =>
        Get(key) ?? throw new InvalidDataException($"{Path}: metadata key '{key}' is missing");

    /// <summary>The stored bytes of tensor <paramref name="name"/>.</summary>
    public byte[] ReadBytes(string name)
    {
        var t = Tensor(name);
        var bytes = new byte[t.ByteCount];
        using SafeFileHandle handle = File.OpenHandle(Path);
        int read = 0;
        while (read < bytes.Length)
        {
            int n = RandomAccess.Read(handle, bytes.AsSpan(read), DataOffset + t.Offset + read);
            if (n == 0) throw new InvalidDataException($"{Path}: tensor '{name}' is truncated");
            read += n;
        }
        return bytes;
    }

    /// <summary>The values of tensor <paramref name="name"/> as float32, row-major in PyTorch order.</summary>
    public float[] ReadFloats(string name)
    {
        var t = Tensor(name);
        var values = new float[t.ElementCount];
        GgmlQuants.Dequantize(t.Type, ReadBytes(name), values);
        return values;
    }

    /// <summary>Tensor <paramref name="name"/> as a float32 TorchSharp tensor of its PyTorch shape on <paramref name="device"/>.</summary>
    public Tensor Load(string name, Device? device = null)
    {
        var t = Tensor(name);
        using var cpu = tensor(ReadFloats(name), t.Shape, ScalarType.Float32);
        return cpu.to(device ?? CPU).clone();
    }

    static string Hex(uint value) => string.Join(" ", BitConverter.GetBytes(value).Select(b => b.ToString("x2")));
}
