using System.Text.Json.Nodes;
using Kit.Models;
using Kit.Models.Hub;
using Kit.Models.Safetensors;
using Kit.Tests.Models.Hub;
using static TorchSharp.torch;

namespace Kit.Tests.Models;

public sealed class LanguageModelLoadTests
{
    static string CopyOfStories()
    {
        var dir = TestPaths.NewTempDir();
        foreach (var f in Directory.GetFiles(TestPaths.Stories260K)) File.Copy(f, Path.Combine(dir, Path.GetFileName(f)));
        return dir;
    }

    static void RewriteWeights(string dir, Func<string, Tensor, Tensor?> change)
    {
        var path = Path.Combine(dir, "model.safetensors");
        var tensors = new List<(string, Tensor)>();
        using (var checkpoint = SafetensorsCheckpoint.Open(dir))
            foreach (var name in checkpoint.Names)
                if (change(name, checkpoint.Load(name)) is { } t) tensors.Add((name, t));
        SafetensorsWriter.Write(path, tensors);
    }

    [Fact]
    public void Hub_id_downloads_into_the_cache_and_loads_like_the_folder()
    {
        using var server = new FakeHubServer();
        var repo = server.AddRepo("karpathy/stories260K");
        foreach (var f in new[] { "config.json", "tokenizer_config.json", "special_tokens_map.json", "generation_config.json" })
            repo.File(f, File.ReadAllBytes(Path.Combine(TestPaths.Stories260K, f)));
        repo.Lfs("model.safetensors", File.ReadAllBytes(Path.Combine(TestPaths.Stories260K, "model.safetensors")));
        repo.Lfs("tokenizer.model", File.ReadAllBytes(Path.Combine(TestPaths.Stories260K, "tokenizer.model")));
        var cache = TestPaths.NewTempDir();
        var options = new ModelLoadOptions { Device = "cpu", Hub = new HubOptions { Endpoint = server.Endpoint, CacheDir = cache } };

        using var fromHub = LanguageModel.Load("karpathy/stories260K", options);
        using var fromFolder = LanguageModel.Load(TestPaths.Stories260K, options);
        Assert.StartsWith(Path.Combine(cache, "models--karpathy--stories260K", "snapshots"), fromHub.Folder);
        var ids = tensor(new long[] { 1, 403, 407, 261, 378 }, 1, 5);
        Assert.True(fromHub.Model.Forward(ids).equal(fromFolder.Model.Forward(ids)).all().item<bool>());
    }

    [Fact]
    public void Unknown_architecture_is_named()
    {
        var dir = CopyOfStories();
        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "config.json")))!;
        config["model_type"] = "falcon";
        File.WriteAllText(Path.Combine(dir, "config.json"), config.ToJsonString());
        var e = Assert.Throws<NotSupportedException>(() => LanguageModel.Load(dir));
        Assert.Contains("model_type 'falcon' is not supported", e.Message);
    }

    [Fact]
    public void Missing_tensor_is_named()
    {
        var dir = CopyOfStories();
        RewriteWeights(dir, (name, t) => name == "model.layers.3.mlp.up_proj.weight" ? null : t);
        var e = Assert.Throws<InvalidDataException>(() => LanguageModel.Load(dir));
        Assert.Contains("'model.layers.3.mlp.up_proj.weight'", e.Message);
    }

    [Fact]
    public void Nan_weight_is_named()
    {
        var dir = CopyOfStories();
        RewriteWeights(dir, (name, t) =>
        {
            if (name == "model.layers.1.self_attn.k_proj.weight") t[2, 3] = tensor(float.NaN);
            return t;
        });
        var e = Assert.Throws<InvalidDataException>(() => LanguageModel.Load(dir));
        Assert.Contains("'model.layers.1.self_attn.k_proj.weight' contains NaN", e.Message);
    }

    [Theory]
    [InlineData("float32")]
    [InlineData("bfloat16")]
    public void Loaded_parameters_equal_the_checkpoint_tensors_bit_for_bit(string dtype)
    {
        // float32 takes the direct copy out of the map, bfloat16 the conversion: both must give the stored values.
        using var lm = LanguageModel.Load(TestPaths.Stories260K, new ModelLoadOptions { Device = "cpu", DType = dtype });
        using var checkpoint = SafetensorsCheckpoint.Open(TestPaths.Stories260K);
        var type = LanguageModel.ParseDType(dtype, CPU);
        int compared = 0;
        foreach (var (name, parameter) in lm.Model.named_parameters())
        {
            if (!checkpoint.Contains(name)) continue;
            using var expected = checkpoint.Load(name, type);
            Assert.Equal(type, parameter.dtype);
            Assert.True(expected.equal(parameter).all().item<bool>(), name);
            compared++;
        }
        Assert.Equal(checkpoint.Names.Count, compared);
    }

    [Fact]
    public void Nan_in_the_last_element_is_named()
    {
        var dir = CopyOfStories();
        RewriteWeights(dir, (name, t) =>
        {
            if (name == "model.layers.4.mlp.down_proj.weight") t[t.shape[0] - 1, t.shape[1] - 1] = tensor(float.PositiveInfinity);
            return t;
        });
        var e = Assert.Throws<InvalidDataException>(() => LanguageModel.Load(dir));
        Assert.Contains("'model.layers.4.mlp.down_proj.weight' contains NaN or infinite", e.Message);
    }

    [Fact]
    public void A_value_that_overflows_the_requested_dtype_is_named()
    {
        // 1e30 is a finite float32 but infinite in float16: the check runs on the converted values.
        var dir = CopyOfStories();
        RewriteWeights(dir, (name, t) =>
        {
            if (name == "model.layers.0.mlp.up_proj.weight") t[0, 0] = tensor(1e30f);
            return t;
        });
        Assert.NotNull(LanguageModel.Load(dir, new ModelLoadOptions { Device = "cpu", DType = "float32" }));
        var e = Assert.Throws<InvalidDataException>(() => LanguageModel.Load(dir, new ModelLoadOptions { Device = "cpu", DType = "float16" }));
        Assert.Contains("'model.layers.0.mlp.up_proj.weight' contains NaN or infinite", e.Message);
    }

    [Fact]
    public void Copy_into_a_tensor_of_another_dtype_or_shape_is_refused()
    {
        using var checkpoint = SafetensorsCheckpoint.Open(TestPaths.Stories260K);
        string name = "model.layers.0.mlp.up_proj.weight";
        var shape = checkpoint.Info(name).Shape;
        using var wrongType = empty(shape, ScalarType.Float64);
        using var wrongShape = empty(shape[0] + 1, shape[1]);
        Assert.Contains("is F32 [", Assert.Throws<ArgumentException>(() => checkpoint.CopyInto(name, wrongType)).Message);
        Assert.Contains("is F32 [", Assert.Throws<ArgumentException>(() => checkpoint.CopyInto(name, wrongShape)).Message);
        using var right = empty(shape);
        checkpoint.CopyInto(name, right);
        using var loaded = checkpoint.Load(name);
        Assert.True(loaded.equal(right).all().item<bool>());
    }

    [Fact]
    public void Wrong_shape_is_named()
    {
        var dir = CopyOfStories();
        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "config.json")))!;
        config["intermediate_size"] = 128;
        File.WriteAllText(Path.Combine(dir, "config.json"), config.ToJsonString());
        var e = Assert.Throws<InvalidDataException>(() => LanguageModel.Load(dir));
        Assert.Contains("has shape [172, 64]", e.Message);
    }

    [Fact]
    public void Corrupt_weights_file_is_named()
    {
        var dir = CopyOfStories();
        File.WriteAllBytes(Path.Combine(dir, "model.safetensors"), new byte[] { 200, 0, 0, 0, 0, 0, 0, 0, (byte)'{' });
        var e = Assert.ThrowsAny<Exception>(() => LanguageModel.Load(dir));
        Assert.Contains("model.safetensors", e.Message);
    }

    [Theory]
    [InlineData("no/such/folder/here", "neither an existing folder nor a hub id")]
    [InlineData("./missing-model", "neither an existing folder nor a hub id")]
    public void Model_argument_that_is_neither_folder_nor_hub_id_is_named(string model, string message)
    {
        var e = Assert.ThrowsAny<Exception>(() => LanguageModel.Load(model));
        Assert.Contains(message, e.Message);
    }

    [Fact]
    public void Folder_without_config_is_named()
    {
        var dir = TestPaths.NewTempDir();
        var e = Assert.Throws<FileNotFoundException>(() => LanguageModel.Load(dir));
        Assert.Contains("has no config.json", e.Message);
    }
}
