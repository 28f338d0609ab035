using Kit.Formats.Gguf;

namespace Kit.Tests.Formats.Gguf;

/// <summary>Kit's GGUF files read field by field with an independent reader written from the spec.</summary>
public sealed class GgufWriterTests
{
    [Fact]
    public void Every_header_field_kv_tensor_info_and_block_reads_back_with_an_independent_reader()
    {
        var path = Path.Combine(TestPaths.NewTempDir(), "t.gguf");
        var f32 = new float[] { 1, 2, 3, 4, 5, 6 };
        var ramp = Enumerable.Range(0, 64).Select(j => (float)(j - 16)).ToArray();
        var q8 = GgmlQuants.Encode(GgmlType.Q8_0, ramp);
        var q4 = GgmlQuants.Encode(GgmlType.Q4_0, ramp);
        var metadata = new List<KeyValuePair<string, GgufValue>>
        {
            new("general.architecture", GgufValue.String("llama")),
            new("a.u32", GgufValue.UInt32(7)),
            new("a.i32", GgufValue.Int32(-3)),
            new("a.f32", GgufValue.Float32(0.5f)),
            new("a.bool", GgufValue.Bool(true)),
            new("a.u64", GgufValue.UInt64(1UL << 40)),
            new("a.strings", GgufValue.Strings(["x", "héllo", ""])),
            new("a.floats", GgufValue.Float32s([1.5f, -2f])),
            new("a.ints", GgufValue.Int32s([1, -1])),
        };
        var tensors = new List<GgufTensorData>
        {
            new("f32", [2, 3], GgmlType.F32, () => GgmlQuants.Encode(GgmlType.F32, f32)),
            new("f16", [3], GgmlType.F16, () => GgmlQuants.Encode(GgmlType.F16, [1, 2, 3])),
            new("q8", [2, 32], GgmlType.Q8_0, () => q8),
            new("q4", [1, 64], GgmlType.Q4_0, () => q4),
        };
        GgufWriter.Write(path, metadata, tensors);

        var file = SpecGgufReader.Read(path);
        Assert.Equal("GGUF"u8.ToArray(), file.Bytes[..4]);
        Assert.Equal(3u, file.Version);
        Assert.Equal(9, file.Kvs.Count);
        Assert.Equal(4, file.Infos.Count);
        Assert.Equal(metadata.Select(m => m.Key), file.Kvs.Select(k => k.Key));
        Assert.Equal((8u, "llama"), (file.Get("general.architecture").Type, (string)file.Get("general.architecture").Value));
        Assert.Equal((4u, (object)7u), (file.Get("a.u32").Type, file.Get("a.u32").Value));
        Assert.Equal((5u, (object)(-3)), (file.Get("a.i32").Type, file.Get("a.i32").Value));
        Assert.Equal((6u, (object)0.5f), (file.Get("a.f32").Type, file.Get("a.f32").Value));
        Assert.Equal((7u, (object)true), (file.Get("a.bool").Type, file.Get("a.bool").Value));
        Assert.Equal((10u, (object)(1UL << 40)), (file.Get("a.u64").Type, file.Get("a.u64").Value));
        Assert.Equal((9u, 8u), (file.Get("a.strings").Type, file.Get("a.strings").ElementType));
        Assert.Equal(new object[] { "x", "héllo", "" }, (object[])file.Get("a.strings").Value);
        Assert.Equal((9u, 6u), (file.Get("a.floats").Type, file.Get("a.floats").ElementType));
        Assert.Equal(new object[] { 1.5f, -2f }, (object[])file.Get("a.floats").Value);
        Assert.Equal(new object[] { 1, -1 }, (object[])file.Get("a.ints").Value);

        // ne is in ggml order (innermost first); types F32 = 0, F16 = 1, Q8_0 = 8, Q4_0 = 2.
        Assert.Equal(new ulong[] { 3, 2 }, file.Tensor("f32").Ne);
        Assert.Equal(new ulong[] { 32, 2 }, file.Tensor("q8").Ne);
        Assert.Equal(new ulong[] { 64, 1 }, file.Tensor("q4").Ne);
        Assert.Equal(new uint[] { 0, 1, 8, 2 }, file.Infos.Select(i => i.Type));
        // Offsets are consecutive sizes rounded up to 32: 24 → 32, 6 → 32, 68 → 96.
        Assert.Equal(new ulong[] { 0, 32, 64, 160 }, file.Infos.Select(i => i.Offset));
        Assert.Equal(0, file.DataStart % 32);
        Assert.All(file.Bytes[(int)file.EndOfInfos..(int)file.DataStart], b => Assert.Equal(0, b));
        Assert.Equal(file.DataStart + 160 + 64, file.Bytes.Length);   // the 36 bytes of Q4_0 padded to 64

        Assert.Equal(new byte[] { 0, 0, 0x80, 0x3F }, file.Data("f32")[..4]);
        Assert.Equal(new byte[] { 0x00, 0x3C, 0x00, 0x40, 0x00, 0x42 }, file.Data("f16"));
        Assert.Equal(q8, file.Data("q8"));
        Assert.Equal(q4, file.Data("q4"));
        Assert.All(file.Bytes[(int)(file.DataStart + 32 + 6)..(int)(file.DataStart + 64)], b => Assert.Equal(0, b));
    }

    [Fact]
    public void Kit_reader_dequantizes_what_the_writer_stored()
    {
        var path = Path.Combine(TestPaths.NewTempDir(), "t.gguf");
        var ramp = Enumerable.Range(0, 64).Select(j => (float)(j - 16)).ToArray();
        GgufWriter.Write(path, [new("general.alignment", GgufValue.UInt32(32))],
            [new("q4", [2, 32], GgmlType.Q4_0, () => GgmlQuants.Encode(GgmlType.Q4_0, ramp))]);
        var file = GgufFile.Open(path);
        Assert.Equal(new long[] { 2, 32 }, file.Tensor("q4").Shape);
        var values = file.ReadFloats("q4");
        // First block: d = 2, x_j = j − 16 reproduced except where rounding to the step 2 moves it by 1.
        for (int j = 0; j < 32; j++) Assert.True(Math.Abs(values[j] - ramp[j]) <= 1, $"element {j}");
        Assert.Equal(-16f, values[0]);
    }

    [Fact]
    public void A_failed_write_leaves_no_file()
    {
        var path = Path.Combine(TestPaths.NewTempDir(), "t.gguf");
        Assert.Throws<ArgumentException>(() => GgufWriter.Write(path, [],
            [new("x", [32], GgmlType.Q8_0, () => new byte[3])]));
        Assert.Empty(Directory.GetFiles(Path.GetDirectoryName(path)!));
    }

    [Fact]
    public void Rows_that_do_not_fill_blocks_are_refused_before_writing()
    {
        var e = Assert.Throws<ArgumentException>(() => GgufWriter.Write(Path.Combine(TestPaths.NewTempDir(), "t.gguf"), [],
            [new("w", [2, 40], GgmlType.Q4_0, () => [])]));
        Assert.Contains("'w'", e.Message);
    }
}
