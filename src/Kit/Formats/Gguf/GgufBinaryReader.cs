using System.Text;

namespace Kit.Formats.Gguf;

/// <summary>Little-endian reads of GGUF fields that turn a short file into an error naming the field.</summary>
internal sealed class GgufBinaryReader(Stream stream, string path)
{
    readonly BinaryReader _r = new(stream, Encoding.UTF8, leaveOpen: true);

    long Remaining => stream.Length - stream.Position;

    public uint UInt32(string field) => Read(field, 4, () => _r.ReadUInt32());
    public ulong UInt64(string field) => Read(field, 8, () => _r.ReadUInt64());

    /// <summary>A uint64 count, checked against the bytes left so that a corrupt count fails here rather than in an allocation.</summary>
    public long Count(string field, long minBytesEach = 1)
    {
        ulong n = UInt64(field);
        if (n > (ulong)(Remaining / minBytesEach))
            throw new InvalidDataException($"{path}: {field} is {n}, more than the {Remaining} bytes left in the file can hold (corrupt or truncated)");
        return (long)n;
    }

    public string String(string field)
    {
        long length = Count($"length of {field}");
        var bytes = Read(field, length, () => _r.ReadBytes((int)length));
        try { return new UTF8Encoding(false, true).GetString(bytes); }
        catch (DecoderFallbackException) { throw new InvalidDataException($"{path}: {field} is not valid UTF-8"); }
    }

    public GgufValueType ValueType(string key)
    {
        uint type = UInt32($"type of metadata '{key}'");
        if (type > (uint)GgufValueType.Float64)
            throw new InvalidDataException($"{path}: metadata '{key}' has unknown value type {type} (GGUF types are 0 to 12)");
        return (GgufValueType)type;
    }

    public GgufValue Value(GgufValueType type, string key)
    {
        if (type != GgufValueType.Array) return GgufValue.Raw(type, Scalar(type, key), GgufValueType.UInt8);
        var element = ValueType($"{key}[]");
        if (element == GgufValueType.Array)
            throw new InvalidDataException($"{path}: metadata '{key}' is an array of arrays, which Kit does not read");
        long n = Count($"length of metadata array '{key}'", element == GgufValueType.String ? 8 : Size(element));
        Array array = element switch
        {
            GgufValueType.UInt8 => new byte[n], GgufValueType.Int8 => new sbyte[n], GgufValueType.UInt16 => new ushort[n],
            GgufValueType.Int16 => new short[n], GgufValueType.UInt32 => new uint[n], GgufValueType.Int32 => new int[n],
            GgufValueType.Float32 => new float[n], GgufValueType.Bool => new bool[n], GgufValueType.String => new string[n],
            GgufValueType.UInt64 => new ulong[n], GgufValueType.Int64 => new long[n], _ => new double[n],
        };
        for (long i = 0; i < n; i++) array.SetValue(Scalar(element, key), i);
        return GgufValue.Raw(type, array, element);
    }

    object Scalar(GgufValueType type, string key) => type switch
    {
        GgufValueType.UInt8 => Read(key, 1, _r.ReadByte),
        GgufValueType.Int8 => Read(key, 1, _r.ReadSByte),
        GgufValueType.UInt16 => Read(key, 2, _r.ReadUInt16),
        GgufValueType.Int16 => Read(key, 2, _r.ReadInt16),
        GgufValueType.UInt32 => Read(key, 4, _r.ReadUInt32),
        GgufValueType.Int32 => Read(key, 4, _r.ReadInt32),
        GgufValueType.Float32 => Read(key, 4, _r.ReadSingle),
        GgufValueType.Bool => Read(key, 1, () => _r.ReadByte() switch
        {
            0 => false, 1 => true, var b => throw new InvalidDataException($"{path}: metadata '{key}' is a bool stored as {b}, not 0 or 1"),
        }),
        GgufValueType.String => String($"metadata '{key}'"),
        GgufValueType.UInt64 => Read(key, 8, _r.ReadUInt64),
        GgufValueType.Int64 => Read(key, 8, _r.ReadInt64),
        GgufValueType.Float64 => Read(key, 8, _r.ReadDouble),
        _ => throw new InvalidDataException($"{path}: metadata '{key}' has value type {type} where a scalar belongs"),
    };

    static int Size(GgufValueType t) => t switch
    {
        GgufValueType.UInt8 or GgufValueType.Int8 or GgufValueType.Bool => 1,
        GgufValueType.UInt16 or GgufValueType.Int16 => 2,
        GgufValueType.UInt32 or GgufValueType.Int32 or GgufValueType.Float32 => 4,
        _ => 8,
    };

    T Read<T>(string field, long bytes, Func<T> read)
    {
        if (Remaining < bytes)
            throw new InvalidDataException($"{path} is truncated: {field} needs {bytes} bytes, {Remaining} are left");
        return read();
    }
}
