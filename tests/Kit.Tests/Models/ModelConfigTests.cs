using System.Text.Json.Nodes;
using Kit.Models;

namespace Kit.Tests.Models;

public sealed class ModelConfigTests
{
    static JsonObject LlamaJson() => JsonNode.Parse("""
        {"model_type":"llama","hidden_size":64,"intermediate_size":172,"num_hidden_layers":5,
         "num_attention_heads":8,"num_key_value_heads":4,"vocab_size":512,"rms_norm_eps":1e-05,
         "rope_theta":10000.0,"tie_word_embeddings":true,"eos_token_id":2}
        """)!.AsObject();

    [Fact]
    public void Reads_stories260K_config()
    {
        var c = ModelConfig.Load(Path.Combine(TestPaths.Stories260K, "config.json"));
        Assert.Equal(("llama", 64, 172, 5, 8, 4, 8, 512), (c.ModelType, c.HiddenSize, c.IntermediateSize, c.NumHiddenLayers,
            c.NumAttentionHeads, c.NumKeyValueHeads, c.HeadDim, c.VocabSize));
        Assert.True(c.TieWordEmbeddings);
        // The model's README: 260,032 parameters.
        Assert.Equal(260_032, c.ParameterCount);
    }

    [Fact]
    public void Qwen2_has_qkv_biases_and_no_output_bias()
    {
        var json = LlamaJson();
        json["model_type"] = "qwen2";
        var c = ModelConfig.FromJson(json);
        Assert.True(c.AttentionQkvBias);
        Assert.False(c.AttentionOutputBias);
        Assert.Null(c.SlidingWindow);
    }

    [Fact]
    public void Llama3_rope_scaling_and_eos_list_are_read()
    {
        var json = LlamaJson();
        json["rope_scaling"] = JsonNode.Parse("""{"factor":8.0,"low_freq_factor":1.0,"high_freq_factor":4.0,"original_max_position_embeddings":8192,"rope_type":"llama3"}""");
        json["eos_token_id"] = new JsonArray(128001, 128008, 128009);
        var c = ModelConfig.FromJson(json);
        Assert.Equal(new RopeScaling("llama3", 8, 1, 4, 8192), c.RopeScaling);
        Assert.Equal(new[] { 128001, 128008, 128009 }, c.EosTokenIds);
        Assert.Equal(c.ToJson().ToJsonString(), ModelConfig.FromJson(c.ToJson()).ToJson().ToJsonString());
    }

    [Theory]
    [InlineData("model_type", "\"gpt2\"", "model_type 'gpt2' is not supported")]
    [InlineData("hidden_act", "\"gelu\"", "hidden_act 'gelu'")]
    [InlineData("num_key_value_heads", "3", "num_key_value_heads (3)")]
    [InlineData("hidden_size", "\"big\"", "'hidden_size' has the wrong type")]
    [InlineData("vocab_size", "0", "'vocab_size' must be positive")]
    [InlineData("rope_scaling", "{\"rope_type\":\"yarn\",\"factor\":4}", "rope_scaling type 'yarn'")]
    public void Bad_configs_name_the_field(string key, string value, string message)
    {
        var json = LlamaJson();
        json[key] = JsonNode.Parse(value);
        var e = Assert.ThrowsAny<Exception>(() => ModelConfig.FromJson(json, "x/config.json"));
        Assert.Contains(message, e.Message);
        Assert.Contains("x/config.json", e.Message);
    }

    [Fact]
    public void Missing_field_and_broken_json_are_named()
    {
        var json = LlamaJson();
        json.Remove("num_hidden_layers");
        Assert.Contains("'num_hidden_layers'", Assert.Throws<InvalidDataException>(() => ModelConfig.FromJson(json)).Message);
        var path = Path.Combine(TestPaths.NewTempDir(), "config.json");
        File.WriteAllText(path, "{\"model_type\": ");
        Assert.Contains(path, Assert.Throws<InvalidDataException>(() => ModelConfig.Load(path)).Message);
    }
}
