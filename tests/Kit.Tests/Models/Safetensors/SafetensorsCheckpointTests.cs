using Kit.Models.Safetensors;
using TorchSharp;

namespace Kit.Tests.Models.Safetensors;

public sealed class SafetensorsCheckpointTests
{
    readonly string _dir = TestPaths.NewTempDir();

    const string OneF32 = """{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}""";
    const string TwoShardIndex = """{"metadata":{"total_size":8},"weight_map":{"a":"model-00001-of-00002.safetensors","b":"model-00002-of-00002.safetensors"}}""";

    void WriteTwoShards()
    {
        HandBuilt.File(_dir, "model-00001-of-00002.safetensors", OneF32, HandBuilt.Le32(0x3F800000));
        HandBuilt.File(_dir, "model-00002-of-00002.safetensors", """{"b":{"dtype":"I32","shape":[1],"data_offsets":[0,4]}}""", HandBuilt.Le32(0xFFFFFFFD));
    }

    [Fact]
    public void Single_model_file_is_opened()
    {
        HandBuilt.File(_dir, "model.safetensors", """{"__metadata__":{"format":"pt"},"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}""", HandBuilt.Le32(0x40000000));
        using var ckpt = SafetensorsCheckpoint.Open(_dir);
        Assert.Equal(["a"], ckpt.Names);
        Assert.Equal("pt", ckpt.Metadata["format"]);
        Assert.True(ckpt.Contains("a"));
        using var a = ckpt.Load("a");
        Assert.Equal(2f, a.ToSingle());
    }

    [Fact]
    public void Sharded_checkpoint_is_opened_through_its_index()
    {
        WriteTwoShards();
        File.WriteAllText(Path.Combine(_dir, "model.safetensors.index.json"), TwoShardIndex);
        using var ckpt = SafetensorsCheckpoint.Open(_dir);
        Assert.Equal(["a", "b"], ckpt.Names);
        Assert.Equal("8", ckpt.Metadata["total_size"]);
        Assert.Equal(2, ckpt.Files.Count);
        Assert.Equal(DType.I32, ckpt.Info("b").DType);
        Assert.EndsWith("model-00002-of-00002.safetensors", ckpt.PathOf("b"));
        using var a = ckpt.Load("a");
        using var b = ckpt.Load("b", torch.ScalarType.Int64);
        Assert.Equal(1f, a.ToSingle());
        Assert.Equal(-3L, b.ToInt64());
    }

    [Fact]
    public void Sole_safetensors_file_of_any_name_is_opened()
    {
        HandBuilt.File(_dir, "weights.safetensors", OneF32, HandBuilt.Le32(0x3F800000));
        using var ckpt = SafetensorsCheckpoint.Open(_dir);
        using var a = ckpt.Load("a");
        Assert.Equal(1f, a.ToSingle());
    }

    [Fact]
    public void Folder_without_safetensors_is_reported()
    {
        File.WriteAllText(Path.Combine(_dir, "config.json"), "{}");
        var e = Assert.Throws<FileNotFoundException>(() => SafetensorsCheckpoint.Open(_dir));
        Assert.Contains(_dir, e.Message);
    }

    [Fact]
    public void Missing_folder_is_reported()
    {
        var missing = Path.Combine(_dir, "nope");
        var e = Assert.Throws<DirectoryNotFoundException>(() => SafetensorsCheckpoint.Open(missing));
        Assert.Contains(missing, e.Message);
    }

    [Fact]
    public void Several_unindexed_files_are_reported()
    {
        WriteTwoShards();
        var e = Assert.Throws<InvalidDataException>(() => SafetensorsCheckpoint.Open(_dir));
        Assert.Contains(_dir, e.Message);
        Assert.Contains("model-00002-of-00002.safetensors", e.Message);
    }

    [Fact]
    public void Index_naming_a_missing_shard_is_reported()
    {
        HandBuilt.File(_dir, "model-00001-of-00002.safetensors", OneF32, HandBuilt.Le32(0x3F800000));
        File.WriteAllText(Path.Combine(_dir, "model.safetensors.index.json"), TwoShardIndex);
        var e = Assert.Throws<FileNotFoundException>(() => SafetensorsCheckpoint.Open(_dir));
        Assert.Contains("model-00002-of-00002.safetensors", e.Message);
        Assert.Contains("'b'", e.Message);
    }

    [Fact]
    public void Tensor_listed_in_index_but_absent_from_its_shard_is_reported()
    {
        WriteTwoShards();
        File.WriteAllText(Path.Combine(_dir, "model.safetensors.index.json"),
            """{"weight_map":{"a":"model-00001-of-00002.safetensors","ghost":"model-00002-of-00002.safetensors"}}""");
        var e = Assert.Throws<InvalidDataException>(() => SafetensorsCheckpoint.Open(_dir));
        Assert.Contains("'ghost'", e.Message);
        Assert.Contains("model-00002-of-00002.safetensors", e.Message);
    }

    [Theory]
    [InlineData("""{"metadata":{}}""", "weight_map")]
    [InlineData("""{"weight_map":{"a":3}}""", "weight_map['a']")]
    [InlineData("""{"weight_map":{"a":"../model-00001-of-00002.safetensors"}}""", "weight_map['a']")]
    [InlineData("""{"weight_map": """, "JSON")]
    public void Bad_index_is_reported_naming_the_field(string index, string field)
    {
        WriteTwoShards();
        var indexPath = Path.Combine(_dir, "model.safetensors.index.json");
        File.WriteAllText(indexPath, index);
        var e = Assert.Throws<InvalidDataException>(() => SafetensorsCheckpoint.Open(_dir));
        Assert.Contains(indexPath, e.Message);
        Assert.Contains(field, e.Message);
    }

    [Fact]
    public void Requested_tensor_not_present_names_the_tensor_and_the_folder()
    {
        HandBuilt.File(_dir, "model.safetensors", OneF32, HandBuilt.Le32(0x3F800000));
        using var ckpt = SafetensorsCheckpoint.Open(_dir);
        Assert.False(ckpt.Contains("lm_head.weight"));
        var e = Assert.Throws<KeyNotFoundException>(() => ckpt.Load("lm_head.weight"));
        Assert.Contains("'lm_head.weight'", e.Message);
        Assert.Contains(_dir, e.Message);
        Assert.Throws<KeyNotFoundException>(() => ckpt.Info("lm_head.weight"));
    }

    [Fact]
    public void Corrupt_header_in_checkpoint_names_the_file()
    {
        var path = HandBuilt.File(_dir, "model.safetensors", """{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]""", HandBuilt.Le32(0x3F800000));
        var e = Assert.Throws<InvalidDataException>(() => SafetensorsCheckpoint.Open(_dir));
        Assert.Contains(path, e.Message);
    }
}
