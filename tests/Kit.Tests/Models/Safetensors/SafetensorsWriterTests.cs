using System.Buffers.Binary;
using System.Text.Json;
using Kit.Models.Safetensors;
using TorchSharp;

namespace Kit.Tests.Models.Safetensors;

public sealed class SafetensorsWriterTests
{
    readonly string _dir = TestPaths.NewTempDir();

    /// <summary>Every dtype with values chosen to be exact in it, and their little-endian bytes worked out by hand.</summary>
    public static TheoryData<string, DType, byte[]> EveryDType => new()
    {
        { "F64", DType.F64, HandBuilt.Le64(0x3FF0000000000000, 0xC000000000000000) },
        { "F32", DType.F32, HandBuilt.Le32(0x3F800000, 0xC0000000) },
        { "F16", DType.F16, HandBuilt.Le16(0x3C00, 0x7BFF) },
        { "BF16", DType.BF16, HandBuilt.Le16(0x3F80, 0xC000) },
        { "I64", DType.I64, HandBuilt.Le64(0x8000000000000000, 7) },
        { "I32", DType.I32, HandBuilt.Le32(0xFFFFFFFF, 0x01020304) },
        { "I16", DType.I16, HandBuilt.Le16(0x8000, 0x0102) },
        { "I8", DType.I8, [0x80, 0x7F] },
        { "U8", DType.U8, [0xFF, 0x01] },
        { "BOOL", DType.BOOL, [0x01, 0x00] },
        { "F8_E4M3", DType.F8_E4M3, [0x38, 0xC0] },
    };

    static torch.Tensor Make(DType dtype) => dtype switch
    {
        DType.F64 => torch.tensor(new[] { 1.0, -2.0 }),
        DType.F32 => torch.tensor(new[] { 1f, -2f }),
        DType.F16 => torch.tensor(new[] { 1f, 65504f }).to(torch.ScalarType.Float16),
        DType.BF16 => torch.tensor(new[] { 1f, -2f }).to(torch.ScalarType.BFloat16),
        DType.I64 => torch.tensor(new[] { long.MinValue, 7L }),
        DType.I32 => torch.tensor(new[] { -1, 0x01020304 }),
        DType.I16 => torch.tensor(new short[] { short.MinValue, 0x0102 }),
        DType.I8 => torch.tensor(new sbyte[] { sbyte.MinValue, sbyte.MaxValue }),
        DType.U8 => torch.tensor(new byte[] { 0xFF, 0x01 }),
        DType.BOOL => torch.tensor(new[] { true, false }),
        DType.F8_E4M3 => torch.tensor(new byte[] { 0x38, 0xC0 }),
        _ => throw new ArgumentOutOfRangeException(nameof(dtype)),
    };

    [Theory]
    [MemberData(nameof(EveryDType))]
    public void Every_dtype_round_trips_with_exact_bytes(string name, DType dtype, byte[] expected)
    {
        var path = Path.Combine(_dir, name + ".safetensors");
        using var source = Make(dtype);
        SafetensorsWriter.Write(path, [new SafetensorsEntry("x", source, dtype == DType.F8_E4M3 ? dtype : null)]);

        // The bytes on disk, found through an independent parse of the header.
        var file = File.ReadAllBytes(path);
        long headerLength = (long)BinaryPrimitives.ReadUInt64LittleEndian(file);
        using var header = JsonDocument.Parse(file.AsMemory(8, (int)headerLength));
        var entry = header.RootElement.GetProperty("x");
        Assert.Equal(name, entry.GetProperty("dtype").GetString());
        Assert.Equal([2L], entry.GetProperty("shape").EnumerateArray().Select(e => e.GetInt64()));
        Assert.Equal([0L, expected.Length], entry.GetProperty("data_offsets").EnumerateArray().Select(e => e.GetInt64()));
        Assert.Equal(expected, file[(8 + (int)headerLength)..]);

        using var reader = SafetensorsFile.Open(path);
        Assert.Equal(dtype, reader.Info("x").DType);
        Assert.Equal(expected, reader.RawBytes("x").ToArray());
        using var back = reader.Load("x");
        Assert.Equal(dtype.ToScalarType(), back.dtype);
        using var same = back.eq(source).all();
        Assert.True(same.ToBoolean());
    }

    [Fact]
    public void Header_is_padded_with_spaces_to_a_multiple_of_8_and_data_follows_in_order()
    {
        var path = Path.Combine(_dir, "padded.safetensors");
        using var a = torch.tensor(new[] { 1f, 2f, 3f });
        using var b = torch.tensor(new short[] { 5 });
        SafetensorsWriter.Write(path, [("a", a), ("b", b)], new Dictionary<string, string> { ["format"] = "pt" });

        var file = File.ReadAllBytes(path);
        long headerLength = (long)BinaryPrimitives.ReadUInt64LittleEndian(file);
        Assert.Equal(0, headerLength % 8);
        var headerText = System.Text.Encoding.UTF8.GetString(file, 8, (int)headerLength);
        // Only spaces may follow the closing brace.
        Assert.EndsWith("}", headerText.TrimEnd(' '));
        using var header = JsonDocument.Parse(headerText);
        Assert.Equal("pt", header.RootElement.GetProperty("__metadata__").GetProperty("format").GetString());
        Assert.Equal([12L, 14L], header.RootElement.GetProperty("b").GetProperty("data_offsets").EnumerateArray().Select(e => e.GetInt64()));
        Assert.Equal(8 + headerLength + 14, file.Length);
        Assert.Equal([.. HandBuilt.Le32(0x3F800000, 0x40000000, 0x40400000), .. HandBuilt.Le16(5)], file[(8 + (int)headerLength)..]);
    }

    [Fact]
    public void Non_contiguous_tensor_is_written_in_logical_order()
    {
        var path = Path.Combine(_dir, "transposed.safetensors");
        using var m = torch.tensor(new[] { 1f, 2f, 3f, 4f, 5f, 6f }, 2, 3);
        using var t = m.t();
        SafetensorsWriter.Write(path, [("t", t)]);
        using var reader = SafetensorsFile.Open(path);
        Assert.Equal([3L, 2L], reader.Info("t").Shape);
        using var back = reader.Load("t");
        Assert.Equal([1f, 4f, 2f, 5f, 3f, 6f], back.data<float>().ToArray());
    }

    [Fact]
    public void Write_replaces_an_existing_file_and_leaves_no_temporary()
    {
        var path = Path.Combine(_dir, "model.safetensors");
        File.WriteAllText(path, "old contents");
        using var x = torch.tensor(new[] { 9f });
        SafetensorsWriter.Write(path, [("x", x)]);
        Assert.Equal([Path.GetFileName(path)], Directory.GetFiles(_dir).Select(Path.GetFileName));
        using var reader = SafetensorsFile.Open(path);
        using var back = reader.Load("x");
        Assert.Equal(9f, back.ToSingle());
    }

    [Fact]
    public void Failed_write_leaves_the_existing_file_untouched()
    {
        var path = Path.Combine(_dir, "keep.safetensors");
        File.WriteAllText(path, "old contents");
        using var ok = torch.tensor(new[] { 1f });
        using var complex = torch.zeros(new long[] { 1 }, torch.ScalarType.ComplexFloat32);
        var e = Assert.Throws<ArgumentException>(() => SafetensorsWriter.Write(path, [("ok", ok), ("complex", complex)]));
        Assert.Contains("'complex'", e.Message);
        Assert.Equal("old contents", File.ReadAllText(path));
        Assert.Single(Directory.GetFiles(_dir));
    }

    [Fact]
    public void Duplicate_and_reserved_names_are_rejected()
    {
        using var x = torch.tensor(new[] { 1f });
        var path = Path.Combine(_dir, "dup.safetensors");
        Assert.Contains("'x'", Assert.Throws<ArgumentException>(() => SafetensorsWriter.Write(path, [("x", x), ("x", x)])).Message);
        Assert.Contains("__metadata__", Assert.Throws<ArgumentException>(() => SafetensorsWriter.Write(path, [("__metadata__", x)])).Message);
        Assert.False(File.Exists(path));
    }

    [Fact]
    public void Stored_as_dtype_must_match_the_element_size()
    {
        using var x = torch.tensor(new[] { 1f });
        var path = Path.Combine(_dir, "size.safetensors");
        var e = Assert.Throws<ArgumentException>(() => SafetensorsWriter.Write(path, [new SafetensorsEntry("x", x, DType.BF16)]));
        Assert.Contains("'x'", e.Message);
        Assert.False(File.Exists(path));
    }

    [Fact]
    public void Int16_bits_can_be_stored_as_bf16()
    {
        // 0x3F80 and 0xC000 are bf16 1.0 and -2.0; writing the raw bits needs no float conversion.
        var path = Path.Combine(_dir, "bits.safetensors");
        using var bits = torch.tensor(new short[] { 0x3F80, unchecked((short)0xC000) });
        SafetensorsWriter.Write(path, [new SafetensorsEntry("w", bits, DType.BF16)]);
        using var reader = SafetensorsFile.Open(path);
        using var w = reader.Load("w", torch.ScalarType.Float32);
        Assert.Equal([1f, -2f], w.data<float>().ToArray());
    }
}
