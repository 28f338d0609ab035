using System.Buffers.Binary;
using System.Text;

namespace Kit.Tests.Models.Safetensors;

/// <summary>Builds safetensors files byte by byte, independently of Kit's writer.</summary>
internal static class HandBuilt
{
    /// <summary>Writes the u64 LE header length, the header text as UTF-8, then <paramref name="data"/>.</summary>
    public static string File(string dir, string name, string header, byte[] data)
    {
        var json = Encoding.UTF8.GetBytes(header);
        var bytes = new byte[8 + json.Length + data.Length];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, (ulong)json.Length);
        json.CopyTo(bytes, 8);
        data.CopyTo(bytes, 8 + json.Length);
        var path = Path.Combine(dir, name);
        System.IO.File.WriteAllBytes(path, bytes);
        return path;
    }

    /// <summary>A one-tensor file: <c>{"t": {dtype, shape, data_offsets: [0, data.Length]}}</c>.</summary>
    public static string OneTensor(string dir, string dtype, long[] shape, byte[] data, string name = "one.safetensors") =>
        File(dir, name, $$$"""{"t":{"dtype":"{{{dtype}}}","shape":[{{{string.Join(",", shape)}}}],"data_offsets":[0,{{{data.Length}}}]}}""", data);

    /// <summary>Little-endian bytes of 16-bit patterns.</summary>
    public static byte[] Le16(params ushort[] values)
    {
        var bytes = new byte[values.Length * 2];
        for (int i = 0; i < values.Length; i++) BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(2 * i), values[i]);
        return bytes;
    }

    /// <summary>Little-endian bytes of 32-bit patterns.</summary>
    public static byte[] Le32(params uint[] values)
    {
        var bytes = new byte[values.Length * 4];
        for (int i = 0; i < values.Length; i++) BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(4 * i), values[i]);
        return bytes;
    }

    /// <summary>Little-endian bytes of 64-bit patterns.</summary>
    public static byte[] Le64(params ulong[] values)
    {
        var bytes = new byte[values.Length * 8];
        for (int i = 0; i < values.Length; i++) BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(8 * i), values[i]);
        return bytes;
    }
}
