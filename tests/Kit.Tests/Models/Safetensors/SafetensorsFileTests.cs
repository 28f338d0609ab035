using Kit.Models.Safetensors;
using TorchSharp;

namespace Kit.Tests.Models.Safetensors;

public sealed class SafetensorsFileTests
{
    readonly string _dir = TestPaths.NewTempDir();

    static float[] Floats(torch.Tensor t)
    {
        using var f = t.to(torch.ScalarType.Float32);
        return f.data<float>().ToArray();
    }

    [Fact]
    public void F64_tensor_reads_back_exactly()
    {
        // 1.0, -0.5, and the smallest subnormal.
        var path = HandBuilt.OneTensor(_dir, "F64", [3], HandBuilt.Le64(0x3FF0000000000000, 0xBFE0000000000000, 0x1));
        using var file = SafetensorsFile.Open(path);
        using var t = file.Load("t");
        Assert.Equal(torch.ScalarType.Float64, t.dtype);
        Assert.Equal([1.0, -0.5, double.Epsilon], t.data<double>().ToArray());
    }

    [Fact]
    public void F32_tensor_reads_back_exactly()
    {
        // 1.0, -2.0, the float nearest pi, and a 2x2 layout check.
        var path = HandBuilt.OneTensor(_dir, "F32", [2, 2], HandBuilt.Le32(0x3F800000, 0xC0000000, 0x40490FDB, 0x00000001));
        using var file = SafetensorsFile.Open(path);
        using var t = file.Load("t");
        Assert.Equal(torch.ScalarType.Float32, t.dtype);
        Assert.Equal([2L, 2L], t.shape);
        Assert.Equal([1f, -2f, MathF.PI, float.Epsilon], t.data<float>().ToArray());
        Assert.Equal(MathF.PI, t[1, 0].ToSingle());
    }

    [Fact]
    public void F16_tensor_reads_back_exactly()
    {
        // 1.0, the largest half (65504), -2.0, the smallest subnormal (2^-24).
        var path = HandBuilt.OneTensor(_dir, "F16", [4], HandBuilt.Le16(0x3C00, 0x7BFF, 0xC000, 0x0001));
        using var file = SafetensorsFile.Open(path);
        using var t = file.Load("t");
        Assert.Equal(torch.ScalarType.Float16, t.dtype);
        Assert.Equal([1f, 65504f, -2f, MathF.Pow(2, -24)], Floats(t));
    }

    [Fact]
    public void Bf16_tensor_reads_back_exactly()
    {
        // 1.0, -2.0, 3.140625, and the smallest bf16 subnormal 2^-133: a converting read would lose it.
        var path = HandBuilt.OneTensor(_dir, "BF16", [4], HandBuilt.Le16(0x3F80, 0xC000, 0x4049, 0x0001));
        using var file = SafetensorsFile.Open(path);
        using var t = file.Load("t");
        Assert.Equal(torch.ScalarType.BFloat16, t.dtype);
        Assert.Equal([1f, -2f, 3.140625f, MathF.Pow(2, -133)], Floats(t));
    }

    [Fact]
    public void Integer_tensors_read_back_exactly()
    {
        using (var f = SafetensorsFile.Open(HandBuilt.OneTensor(_dir, "I64", [3], HandBuilt.Le64(0x8000000000000000, ulong.MaxValue, (1UL << 40) + 3), "i64.safetensors")))
        using (var t = f.Load("t"))
        {
            Assert.Equal(torch.ScalarType.Int64, t.dtype);
            Assert.Equal([long.MinValue, -1L, (1L << 40) + 3], t.data<long>().ToArray());
        }
        using (var f = SafetensorsFile.Open(HandBuilt.OneTensor(_dir, "I32", [3], HandBuilt.Le32(0x80000000, 0xFFFFFFFE, 123456789), "i32.safetensors")))
        using (var t = f.Load("t"))
        {
            Assert.Equal(torch.ScalarType.Int32, t.dtype);
            Assert.Equal([int.MinValue, -2, 123456789], t.data<int>().ToArray());
        }
        using (var f = SafetensorsFile.Open(HandBuilt.OneTensor(_dir, "I16", [3], HandBuilt.Le16(0x8000, 0xFFFF, 0x1234), "i16.safetensors")))
        using (var t = f.Load("t"))
        {
            Assert.Equal(torch.ScalarType.Int16, t.dtype);
            Assert.Equal([short.MinValue, (short)-1, (short)0x1234], t.data<short>().ToArray());
        }
        using (var f = SafetensorsFile.Open(HandBuilt.OneTensor(_dir, "I8", [3], [0x80, 0xFF, 0x7F], "i8.safetensors")))
        using (var t = f.Load("t"))
        {
            Assert.Equal(torch.ScalarType.Int8, t.dtype);
            Assert.Equal([sbyte.MinValue, (sbyte)-1, sbyte.MaxValue], t.data<sbyte>().ToArray());
        }
        using (var f = SafetensorsFile.Open(HandBuilt.OneTensor(_dir, "U8", [3], [0x80, 0xFF, 0x00], "u8.safetensors")))
        using (var t = f.Load("t"))
        {
            Assert.Equal(torch.ScalarType.Byte, t.dtype);
            Assert.Equal([(byte)128, (byte)255, (byte)0], t.data<byte>().ToArray());
        }
    }

    [Fact]
    public void Bool_tensor_reads_back_exactly()
    {
        var path = HandBuilt.OneTensor(_dir, "BOOL", [2, 2], [1, 0, 0, 1]);
        using var file = SafetensorsFile.Open(path);
        using var t = file.Load("t");
        Assert.Equal(torch.ScalarType.Bool, t.dtype);
        Assert.Equal([true, false, false, true], t.data<bool>().ToArray());
    }

    [Fact]
    public void F8_e4m3_loads_as_raw_bits_or_decoded_values()
    {
        // 0x38 = 1.0, 0xB8 = -1.0, 0x40 = 2.0, 0x7E = 448 (largest), 0x01 = 2^-9 (smallest subnormal), 0x7F = NaN.
        byte[] bits = [0x38, 0xB8, 0x40, 0x7E, 0x01, 0x7F];
        var path = HandBuilt.OneTensor(_dir, "F8_E4M3", [6], bits);
        using var file = SafetensorsFile.Open(path);
        Assert.Equal(DType.F8_E4M3, file.Info("t").DType);

        using var raw = file.Load("t");
        Assert.Equal(torch.ScalarType.Byte, raw.dtype);
        Assert.Equal(bits, raw.data<byte>().ToArray());

        using var values = file.Load("t", torch.ScalarType.Float32);
        var v = values.data<float>().ToArray();
        Assert.Equal([1f, -1f, 2f, 448f, 0.001953125f], v[..5]);
        Assert.True(float.IsNaN(v[5]));

        using var bf16 = file.Load("t", torch.ScalarType.BFloat16);
        Assert.Equal(torch.ScalarType.BFloat16, bf16.dtype);
        Assert.Equal(448f, bf16[3].ToSingle());

        var e = Assert.Throws<NotSupportedException>(() => file.Load("t", torch.ScalarType.Int32));
        Assert.Contains("'t'", e.Message);
    }

    [Fact]
    public void Scalar_and_empty_tensors_load_with_their_shapes()
    {
        var path = HandBuilt.File(_dir, "shapes.safetensors",
            """{"scalar":{"dtype":"F32","shape":[],"data_offsets":[0,4]},"empty":{"dtype":"F32","shape":[0,3],"data_offsets":[4,4]}}""",
            HandBuilt.Le32(0x40400000));
        using var file = SafetensorsFile.Open(path);
        using var scalar = file.Load("scalar");
        Assert.Empty(scalar.shape);
        Assert.Equal(3f, scalar.ToSingle());
        using var empty = file.Load("empty");
        Assert.Equal([0L, 3L], empty.shape);
    }

    [Fact]
    public void Tensors_are_read_at_their_own_offsets_and_listed_in_storage_order()
    {
        // Header order differs from data order, and a gap separates the tensors; 0xAA marks bytes no tensor owns.
        byte[] data = [.. HandBuilt.Le32(0x3F800000), 0xAA, 0xAA, 0xAA, 0xAA, .. HandBuilt.Le16(0x1234, 0x5678)];
        var path = HandBuilt.File(_dir, "order.safetensors",
            """{"__metadata__":{"format":"pt"},"late":{"dtype":"I16","shape":[2],"data_offsets":[8,12]},"early":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}""",
            data);
        using var file = SafetensorsFile.Open(path);
        Assert.Equal(["early", "late"], file.Names);
        Assert.Equal("pt", file.Metadata["format"]);
        var info = file.Info("late");
        Assert.Equal((DType.I16, 8L, 12L), (info.DType, info.Begin, info.End));
        Assert.Equal([2L], info.Shape);
        using var late = file.Load("late");
        Assert.Equal([(short)0x1234, (short)0x5678], late.data<short>().ToArray());
        Assert.Equal(HandBuilt.Le16(0x1234, 0x5678), file.RawBytes("late").ToArray());
        using var early = file.Load("early");
        Assert.Equal([1f], early.data<float>().ToArray());
    }

    [Fact]
    public void Load_converts_to_the_requested_dtype()
    {
        var path = HandBuilt.OneTensor(_dir, "BF16", [2], HandBuilt.Le16(0x3F80, 0xC000));
        using var file = SafetensorsFile.Open(path);
        using var t = file.Load("t", torch.ScalarType.Float64, torch.CPU);
        Assert.Equal(torch.ScalarType.Float64, t.dtype);
        Assert.Equal([1.0, -2.0], t.data<double>().ToArray());
    }

    [Fact]
    public void Loaded_tensor_outlives_the_file()
    {
        var path = HandBuilt.OneTensor(_dir, "F32", [1], HandBuilt.Le32(0x3F800000));
        torch.Tensor t;
        using (var file = SafetensorsFile.Open(path)) t = file.Load("t");
        using (t) Assert.Equal(1f, t.ToSingle());
    }

    [Fact]
    public void Missing_tensor_names_the_tensor_and_the_file()
    {
        var path = HandBuilt.OneTensor(_dir, "F32", [1], HandBuilt.Le32(0x3F800000));
        using var file = SafetensorsFile.Open(path);
        Assert.False(file.Contains("nope"));
        var e = Assert.Throws<KeyNotFoundException>(() => file.Load("nope"));
        Assert.Contains("'nope'", e.Message);
        Assert.Contains(path, e.Message);
    }
}
