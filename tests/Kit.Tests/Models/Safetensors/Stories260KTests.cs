using System.Buffers.Binary;
using System.Text.Json;
using Kit.Models.Safetensors;
using TorchSharp;

namespace Kit.Tests.Models.Safetensors;

public sealed class Stories260KTests
{
    static readonly string ModelFile = Path.Combine(TestPaths.Stories260K, "model.safetensors");

    /// <summary>Reads element <paramref name="index"/> of an F32 tensor straight from the file, parsing the header independently.</summary>
    static float ManualRead(string tensor, long index)
    {
        var bytes = File.ReadAllBytes(ModelFile);
        long headerLength = (long)BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        using var header = JsonDocument.Parse(bytes.AsMemory(8, (int)headerLength));
        long begin = header.RootElement.GetProperty(tensor).GetProperty("data_offsets")[0].GetInt64();
        return BinaryPrimitives.ReadSingleLittleEndian(bytes.AsSpan((int)(8 + headerLength + begin + 4 * index)));
    }

    [Fact]
    public void Stories260K_lists_48_f32_tensors()
    {
        using var ckpt = SafetensorsCheckpoint.Open(TestPaths.Stories260K);
        Assert.Equal(48, ckpt.Names.Count);
        Assert.All(ckpt.Names, n => Assert.Equal(DType.F32, ckpt.Info(n).DType));
        Assert.Equal([512L, 64L], ckpt.Info("model.embed_tokens.weight").Shape);
        Assert.Equal("pt", ckpt.Metadata["format"]);
        Assert.Equal("model.embed_tokens.weight", ckpt.Names[0]);
    }

    [Theory]
    [InlineData("model.embed_tokens.weight", 0, 0)]
    [InlineData("model.embed_tokens.weight", 1, 7)]
    [InlineData("model.embed_tokens.weight", 300, 33)]
    [InlineData("model.embed_tokens.weight", 511, 63)]
    [InlineData("model.layers.0.self_attn.q_proj.weight", 17, 5)]
    public void Stories260K_values_match_a_manual_little_endian_read(string tensor, int row, int col)
    {
        using var ckpt = SafetensorsCheckpoint.Open(TestPaths.Stories260K);
        using var t = ckpt.Load(tensor);
        long columns = t.shape[1];
        float expected = ManualRead(tensor, row * columns + col);
        Assert.NotEqual(0f, expected);
        Assert.Equal(expected, t[row, col].ToSingle());
    }
}
