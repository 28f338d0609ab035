using System.Text;

namespace Kit.Tests.Formats.Gguf;

/// <summary>
/// A GGUF reader written from llama.cpp's docs/gguf.md with a plain BinaryReader, sharing no code with Kit,
/// so that tests check Kit's files against the format rather than against Kit's own reader.
/// </summary>
internal sealed class SpecGgufReader
{
    public sealed record Kv(string Key, uint Type, object Value, uint ElementType);
    public sealed record Info(string Name, ulong[] Ne, uint Type, ulong Offset, long TypeFieldPosition);

    public required byte[] Bytes { get; init; }
    public required uint Magic { get; init; }
    public required uint Version { get; init; }
    public required List<Kv> Kvs { get; init; }
    public required List<Info> Infos { get; init; }
    /// <summary>The position right after the last tensor info.</summary>
    public required long EndOfInfos { get; init; }
    public required long DataStart { get; init; }

    public Kv Get(string key) => Kvs.Single(k => k.Key == key);
    public Info Tensor(string name) => Infos.Single(i => i.Name == name);

    /// <summary>Bytes of a tensor per ggml's block sizes: F32 4, F16 2, Q4_0 18 per 32, Q4_1 20 per 32, Q8_0 34 per 32.</summary>
    public static long SizeOf(Info info)
    {
        ulong n = info.Ne.Aggregate(1UL, (a, b) => a * b);
        return info.Type switch
        {
            0 => (long)n * 4, 1 => (long)n * 2, 2 => (long)n / 32 * 18, 3 => (long)n / 32 * 20, 8 => (long)n / 32 * 34,
            _ => throw new InvalidOperationException($"type {info.Type}"),
        };
    }

    public byte[] Data(string name)
    {
        var info = Tensor(name);
        return Bytes.AsSpan((int)(DataStart + (long)info.Offset), (int)SizeOf(info)).ToArray();
    }

    public static SpecGgufReader Read(string path)
    {
        var bytes = File.ReadAllBytes(path);
        using var r = new BinaryReader(new MemoryStream(bytes));
        uint magic = r.ReadUInt32();
        uint version = r.ReadUInt32();
        ulong tensorCount = r.ReadUInt64();
        ulong kvCount = r.ReadUInt64();
        var kvs = new List<Kv>();
        for (ulong i = 0; i < kvCount; i++)
        {
            string key = Str(r);
            uint type = r.ReadUInt32();
            if (type == 9)
            {
                uint element = r.ReadUInt32();
                ulong n = r.ReadUInt64();
                var items = new object[n];
                for (ulong j = 0; j < n; j++) items[j] = Scalar(r, element);
                kvs.Add(new Kv(key, type, items, element));
            }
            else kvs.Add(new Kv(key, type, Scalar(r, type), 0));
        }
        var infos = new List<Info>();
        for (ulong i = 0; i < tensorCount; i++)
        {
            string name = Str(r);
            uint dims = r.ReadUInt32();
            var ne = new ulong[dims];
            for (int d = 0; d < dims; d++) ne[d] = r.ReadUInt64();
            long typePosition = r.BaseStream.Position;
            uint type = r.ReadUInt32();
            ulong offset = r.ReadUInt64();
            infos.Add(new Info(name, ne, type, offset, typePosition));
        }
        long end = r.BaseStream.Position;
        uint alignment = kvs.FirstOrDefault(k => k.Key == "general.alignment") is { } a ? (uint)a.Value : 32;
        long dataStart = (end + alignment - 1) / alignment * alignment;
        return new SpecGgufReader
        {
            Bytes = bytes, Magic = magic, Version = version, Kvs = kvs, Infos = infos, EndOfInfos = end, DataStart = dataStart,
        };
    }

    static string Str(BinaryReader r) => Encoding.UTF8.GetString(r.ReadBytes(checked((int)r.ReadUInt64())));

    static object Scalar(BinaryReader r, uint type) => type switch
    {
        0 => r.ReadByte(), 1 => r.ReadSByte(), 2 => r.ReadUInt16(), 3 => r.ReadInt16(), 4 => r.ReadUInt32(), 5 => r.ReadInt32(),
        6 => r.ReadSingle(), 7 => r.ReadByte() != 0, 8 => Str(r), 10 => r.ReadUInt64(), 11 => r.ReadInt64(), 12 => r.ReadDouble(),
        _ => throw new InvalidDataException($"value type {type}"),
    };
}
