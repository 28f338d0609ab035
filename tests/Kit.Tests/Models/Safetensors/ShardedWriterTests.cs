using System.Text.Json;
using Kit.Models.Safetensors;
using TorchSharp;

namespace Kit.Tests.Models.Safetensors;

public sealed class ShardedWriterTests
{
    readonly string _dir = TestPaths.NewTempDir();

    [Fact]
    public void Shards_are_filled_greedily_and_the_index_maps_every_tensor()
    {
        // 40 + 40 bytes fit a 100-byte shard; the third 40 does not; the 400-byte tensor gets a shard of its own.
        using var a = torch.arange(10, dtype: torch.ScalarType.Float32);
        using var b = torch.arange(10, 20, dtype: torch.ScalarType.Float32);
        using var c = torch.arange(20, 30, dtype: torch.ScalarType.Int32);
        using var big = torch.arange(100, dtype: torch.ScalarType.Float32);
        var shards = SafetensorsWriter.WriteSharded(_dir, [("a", a), ("b", b), ("c", c), ("big", big)], 100,
            new Dictionary<string, string> { ["format"] = "pt" });

        string[] names = ["model-00001-of-00003.safetensors", "model-00002-of-00003.safetensors", "model-00003-of-00003.safetensors"];
        Assert.Equal(names, shards.Select(Path.GetFileName));
        Assert.Equal([.. names, "model.safetensors.index.json"], Directory.GetFiles(_dir).Select(Path.GetFileName).Order(StringComparer.Ordinal));

        using var index = JsonDocument.Parse(File.ReadAllText(Path.Combine(_dir, "model.safetensors.index.json")));
        Assert.Equal(40 + 40 + 40 + 400, index.RootElement.GetProperty("metadata").GetProperty("total_size").GetInt64());
        var map = index.RootElement.GetProperty("weight_map").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString());
        Assert.Equal(new Dictionary<string, string?> { ["a"] = names[0], ["b"] = names[0], ["c"] = names[1], ["big"] = names[2] }, map);

        using var ckpt = SafetensorsCheckpoint.Open(_dir);
        Assert.Equal(["a", "b", "c", "big"], ckpt.Names);
        using var c2 = ckpt.Load("c");
        Assert.Equal(Enumerable.Range(20, 10), c2.data<int>().ToArray());
        using var big2 = ckpt.Load("big");
        Assert.Equal(99f, big2[99].ToSingle());
        using var shard = SafetensorsFile.Open(shards[0]);
        Assert.Equal("pt", shard.Metadata["format"]);
    }

    [Fact]
    public void Sharded_write_refuses_a_folder_holding_model_safetensors()
    {
        File.WriteAllText(Path.Combine(_dir, "model.safetensors"), "x");
        using var a = torch.ones(2);
        var e = Assert.Throws<IOException>(() => SafetensorsWriter.WriteSharded(_dir, [("a", a)], 100));
        Assert.Contains(_dir, e.Message);
    }
}
