using System.Text.Json.Nodes;
using Kit.Models.Hub;
using Kit.Planning;
using static Kit.Tests.Planning.PlanningFixtures;

namespace Kit.Tests.Planning;

public sealed class ModelFootprintTests
{
    [Fact]
    public void Scout_counts_109B_parameters_with_17B_active()
    {
        var scout = Load(Scout);
        Assert.Equal(ScoutTotal, scout.Parameters);
        Assert.InRange(scout.Parameters / 109e9, 0.98, 1.02);
        // Active per text token: everything but 15 of the 16 routed experts in each of the 48 layers.
        Assert.Equal(ScoutText - 48L * 15 * 125_829_120, scout.ActiveParameters);
        Assert.InRange(scout.ActiveParameters!.Value / 17e9, 0.98, 1.02);
        var parts = scout.ParametersByComponent.ToDictionary();
        Assert.Equal(1_034_485_760, parts["embeddings"]);
        Assert.Equal(48L * 2_013_265_920, parts["experts"]);
        Assert.Equal(48L * 125_829_120, parts["shared experts"]);
        Assert.Equal(48L * 81_920, parts["router"]);
        Assert.Equal(ScoutVision, parts["vision tower"]);
        Assert.Equal(16, scout.Experts);
    }

    [Fact]
    public void Maverick_interleaves_dense_and_moe_layers_to_400B()
    {
        var maverick = Load(Maverick);
        Assert.Equal(MaverickTotal, maverick.Parameters);
        Assert.InRange(maverick.Parameters / 400e9, 0.98, 1.02);
        Assert.Equal(24L * 3 * 5120 * 16384, maverick.ParametersByComponent.ToDictionary()["mlp"]);
        Assert.Equal(MaverickText - 24L * 127 * 125_829_120, maverick.ActiveParameters);
    }

    [Fact]
    public void Llama4_moe_layers_follow_the_interleave_step_when_not_listed()
    {
        var json = JsonNode.Parse(File.ReadAllText(FixturePath(Maverick)))!.AsObject();
        json["text_config"]!.AsObject().Remove("moe_layers");
        Assert.Equal(MaverickTotal, ModelFootprint.FromConfig(json).Parameters);
    }

    [Fact]
    public void Llama4_vision_tower_is_excluded_and_said_so_when_its_sizes_are_missing()
    {
        var json = JsonNode.Parse(File.ReadAllText(FixturePath(Scout)))!.AsObject();
        json["vision_config"] = new JsonObject { ["model_type"] = "llama4_vision_model" };
        var scout = ModelFootprint.FromConfig(json);
        Assert.Equal(ScoutText, scout.Parameters);
        Assert.Contains(scout.Notes, n => n.Contains("vision tower excluded"));
    }

    [Theory]
    [InlineData(TinyLlama, 1_100_048_384)] // the count published for TinyLlama-1.1B
    [InlineData(Mistral, 7_241_732_096)]   // Mistral-7B-v0.1
    [InlineData(Qwen2, 494_032_768)]       // Qwen2-0.5B: q/k/v biases, tied embeddings
    [InlineData(Tiny, TinyTotal)]
    public void Dense_configs_count_their_published_parameters(string fixture, long expected) =>
        Assert.Equal(expected, Load(fixture).Parameters);

    [Fact]
    public void Windows_come_from_sliding_window_and_chunked_attention()
    {
        Assert.Equal(32, Load(Mistral).Attention!.WindowedLayers);
        Assert.Equal(0, Load(Qwen2).Attention!.WindowedLayers);            // use_sliding_window is false
        var scout = Load(Scout).Attention!;
        Assert.Equal(36, scout.WindowedLayers);                             // every RoPE layer; every 4th is NoPE
        Assert.Null(scout.LayerWindows[3]);
        Assert.Equal(8192, scout.LayerWindows[0]);
    }

    [Fact]
    public void Unsupported_model_type_names_the_file_and_type()
    {
        var e = Assert.Throws<NotSupportedException>(() => ModelFootprint.FromConfig(new JsonObject { ["model_type"] = "gpt2" }, "x/config.json"));
        Assert.Contains("x/config.json", e.Message);
        Assert.Contains("'gpt2'", e.Message);
    }

    [Fact]
    public void Missing_field_names_the_file_and_field()
    {
        var json = JsonNode.Parse(File.ReadAllText(FixturePath(Tiny)))!.AsObject();
        json.Remove("vocab_size");
        var e = Assert.Throws<InvalidDataException>(() => ModelFootprint.FromConfig(json, "tiny/config.json"));
        Assert.Equal("tiny/config.json: missing 'vocab_size'", e.Message);
    }

    [Fact]
    public async Task Hub_id_reads_only_config_json_from_the_offline_cache()
    {
        string cache = TestPaths.NewTempDir();
        const string id = "meta-llama/Llama-4-Scout-17B-16E-Instruct";
        string commit = new('a', 40);
        string repo = Path.Combine(cache, "models--meta-llama--Llama-4-Scout-17B-16E-Instruct");
        Directory.CreateDirectory(Path.Combine(repo, "refs"));
        File.WriteAllText(Path.Combine(repo, "refs", "main"), commit);
        Directory.CreateDirectory(Path.Combine(repo, "snapshots", commit));
        File.Copy(FixturePath(Scout), Path.Combine(repo, "snapshots", commit, "config.json"));
        using var hub = new HubClient(new HubOptions { CacheDir = cache, Offline = true });
        var scout = await FootprintLoader.LoadAsync(id, hub);
        Assert.Equal(ScoutTotal, scout.Parameters);
        Assert.Equal(id, scout.Source);
    }

    [Fact]
    public async Task Folder_without_config_json_is_refused()
    {
        string folder = TestPaths.NewTempDir();
        var e = await Assert.ThrowsAsync<FileNotFoundException>(() => FootprintLoader.LoadAsync(folder));
        Assert.Contains("no config.json", e.Message);
    }

    [Theory]
    [InlineData("109B", 109_000_000_000)]
    [InlineData("109e9", 109_000_000_000)]
    [InlineData("1.1b", 1_100_000_000)]
    [InlineData("400M", 400_000_000)]
    [InlineData("1.5T", 1_500_000_000_000)]
    [InlineData("7000000000", 7_000_000_000)]
    public void Parameter_counts_parse_with_suffixes(string text, long expected) => Assert.Equal(expected, ParameterCount.Parse(text));

    [Theory]
    [InlineData("")]
    [InlineData("lots")]
    [InlineData("-5B")]
    public void Bad_parameter_counts_are_refused(string text) => Assert.Throws<FormatException>(() => ParameterCount.Parse(text));
}
