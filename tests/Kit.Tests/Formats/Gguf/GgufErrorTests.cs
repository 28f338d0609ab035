using Kit.Formats.Gguf;

namespace Kit.Tests.Formats.Gguf;

/// <summary>Files that are not GGUF, cut short, or hold tensor types Kit does not read fail with messages that say so.</summary>
public sealed class GgufErrorTests
{
    static string SmallFile()
    {
        var path = Path.Combine(TestPaths.NewTempDir(), "t.gguf");
        GgufWriter.Write(path, [new("general.architecture", GgufValue.String("llama")), new("x.tokens", GgufValue.Strings(["a", "b"]))],
            [new("blk.0.attn_q.weight", [2, 32], GgmlType.Q8_0, () => GgmlQuants.Encode(GgmlType.Q8_0, new float[64]))]);
        return path;
    }

    [Fact]
    public void A_file_that_is_not_gguf_is_named_as_such()
    {
        var path = Path.Combine(TestPaths.NewTempDir(), "model.safetensors");
        File.WriteAllText(path, "{\"not\": \"gguf\"} and some more bytes");
        var e = Assert.Throws<InvalidDataException>(() => GgufFile.Open(path));
        Assert.Contains(path, e.Message);
        Assert.Contains("is not a GGUF file", e.Message);
    }

    [Fact]
    public void A_file_cut_in_the_metadata_reports_truncation_and_the_field()
    {
        var path = SmallFile();
        var bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..100]);   // inside the array length of the second key-value pair
        var e = Assert.Throws<InvalidDataException>(() => GgufFile.Open(path));
        Assert.Contains("truncated", e.Message);
        Assert.Contains("x.tokens", e.Message);
    }

    [Fact]
    public void A_file_cut_in_the_tensor_data_reports_the_tensor()
    {
        var path = SmallFile();
        var bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..^40]);
        var e = Assert.Throws<InvalidDataException>(() => GgufFile.Open(path));
        Assert.Contains("'blk.0.attn_q.weight'", e.Message);
        Assert.Contains("truncated", e.Message);
    }

    [Fact]
    public void An_unknown_tensor_type_is_named_with_its_tensor()
    {
        var path = SmallFile();
        var bytes = File.ReadAllBytes(path);
        var info = SpecGgufReader.Read(path).Tensor("blk.0.attn_q.weight");
        BitConverter.GetBytes(12u).CopyTo(bytes, info.TypeFieldPosition);   // Q4_K
        File.WriteAllBytes(path, bytes);
        var e = Assert.Throws<InvalidDataException>(() => GgufFile.Open(path));
        Assert.Contains("'blk.0.attn_q.weight'", e.Message);
        Assert.Contains("Q4_K", e.Message);
    }

    [Fact]
    public void An_unsupported_version_is_refused()
    {
        var path = SmallFile();
        var bytes = File.ReadAllBytes(path);
        BitConverter.GetBytes(7u).CopyTo(bytes, 4);
        File.WriteAllBytes(path, bytes);
        var e = Assert.Throws<InvalidDataException>(() => GgufFile.Open(path));
        Assert.Contains("version 7", e.Message);
    }

    [Fact]
    public void Importing_a_gguf_of_another_architecture_is_refused()
    {
        var path = Path.Combine(TestPaths.NewTempDir(), "t.gguf");
        GgufWriter.Write(path, [new("general.architecture", GgufValue.String("gemma"))], []);
        var e = Assert.Throws<NotSupportedException>(() => GgufImporter.ToFolder(path, Path.Combine(TestPaths.NewTempDir(), "out")));
        Assert.Contains("gemma", e.Message);
    }
}
