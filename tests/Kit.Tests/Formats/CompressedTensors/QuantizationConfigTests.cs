using System.Text.Json.Nodes;
using Kit.Formats.CompressedTensors;
using Kit.Quantization;

namespace Kit.Tests.Formats.CompressedTensors;

public sealed class QuantizationConfigTests
{
    // ANCHORS-AND-FORMATS.md §2: what llm-compressor writes for W4A16, g128, symmetric (GPTQ, actorder static).
    const string SpecW4A16 = """
        {
          "config_groups": {"group_0": {
              "format": "pack-quantized", "input_activations": null, "output_activations": null,
              "targets": ["Linear"],
              "weights": {"actorder": "static", "block_structure": null, "dynamic": false,
                          "group_size": 128, "num_bits": 4, "observer": "minmax",
                          "observer_kwargs": {}, "strategy": "group", "symmetric": true, "type": "int"}}},
          "format": "pack-quantized", "global_compression_ratio": null, "ignore": ["lm_head"],
          "kv_cache_scheme": null, "quant_method": "compressed-tensors",
          "quantization_status": "compressed", "sparsity_config": {}, "transform_config": {},
          "version": "0.12.2"}
        """;

    static CompressionRecipe Recipe(string scheme, string actOrder = "none") => new()
    {
        Method = CompressionMethod.Gptq, Scheme = scheme, Weights = QuantizationPresets.Parse(scheme),
        InputActivations = QuantizationPresets.InputActivations(scheme), ActOrder = ActOrders.Parse(actOrder),
    };

    static void AssertSortedKeys(JsonNode? node, string path = "$")
    {
        if (node is JsonObject o)
        {
            var keys = o.Select(p => p.Key).ToList();
            Assert.True(keys.SequenceEqual(keys.Order(StringComparer.Ordinal)), $"{path}: keys {string.Join(",", keys)} are not sorted");
            foreach (var (k, v) in o) AssertSortedKeys(v, $"{path}.{k}");
        }
    }

    [Fact]
    public void W4A16_gptq_static_config_is_the_spec_example_key_for_key_in_sorted_order()
    {
        var json = CompressedTensorsWriter.QuantizationConfig(Recipe("W4A16", "static"))!;
        // Same compact text means the same keys, values and order.
        Assert.Equal(JsonNode.Parse(SpecW4A16)!.ToJsonString(), json.ToJsonString());
        AssertSortedKeys(json);
    }

    [Fact]
    public void Weights_carry_only_the_classic_keys()
    {
        var json = CompressedTensorsWriter.QuantizationConfig(Recipe("W4A16_ASYM", "group"))!;
        var weights = json["config_groups"]!["group_0"]!["weights"]!.AsObject();
        Assert.Equal(["actorder", "block_structure", "dynamic", "group_size", "num_bits", "observer", "observer_kwargs", "strategy", "symmetric", "type"],
            weights.Select(p => p.Key));
        Assert.False(weights["symmetric"]!.GetValue<bool>());
        Assert.Equal("group", weights["actorder"]!.GetValue<string>());
        Assert.Equal("pack-quantized", json["format"]!.GetValue<string>());
    }

    [Fact]
    public void W8A8_is_int_quantized_with_dynamic_per_token_int8_activations()
    {
        const string expected = """
            {"config_groups":{"group_0":{"format":"int-quantized",
              "input_activations":{"actorder":null,"block_structure":null,"dynamic":true,"group_size":null,"num_bits":8,
                "observer":null,"observer_kwargs":{},"strategy":"token","symmetric":true,"type":"int"},
              "output_activations":null,"targets":["Linear"],
              "weights":{"actorder":null,"block_structure":null,"dynamic":false,"group_size":null,"num_bits":8,
                "observer":"minmax","observer_kwargs":{},"strategy":"channel","symmetric":true,"type":"int"}}},
             "format":"int-quantized","global_compression_ratio":null,"ignore":["lm_head"],"kv_cache_scheme":null,
             "quant_method":"compressed-tensors","quantization_status":"compressed","sparsity_config":{},"transform_config":{},
             "version":"0.12.2"}
            """;
        // GPTQ's act-order "static" only changed calibration; per channel it is left out (old readers refuse it there).
        var json = CompressedTensorsWriter.QuantizationConfig(Recipe("W8A8", "static"))!;
        Assert.Equal(JsonNode.Parse(expected)!.ToJsonString(), json.ToJsonString());
    }

    [Fact]
    public void Fp8_dynamic_is_float_quantized_per_channel_with_dynamic_fp8_token_activations()
    {
        var dynamic = CompressedTensorsWriter.QuantizationConfig(Recipe("FP8_DYNAMIC"))!;
        var group = dynamic["config_groups"]!["group_0"]!;
        Assert.Equal("float-quantized", dynamic["format"]!.GetValue<string>());
        Assert.Equal(("float", "channel"), (group["weights"]!["type"]!.GetValue<string>(), group["weights"]!["strategy"]!.GetValue<string>()));
        var a = group["input_activations"]!;
        Assert.Equal(("float", 8, "token", true, true),
            (a["type"]!.GetValue<string>(), a["num_bits"]!.GetValue<int>(), a["strategy"]!.GetValue<string>(), a["dynamic"]!.GetValue<bool>(), a["symmetric"]!.GetValue<bool>()));
        AssertSortedKeys(dynamic);
    }

    [Fact]
    public void Pruning_alone_needs_no_quantization_config()
    {
        var recipe = new CompressionRecipe { Method = CompressionMethod.SparseGpt, Sparsity = SparsityPattern.NOfM(2, 4) };
        Assert.Null(CompressedTensorsWriter.QuantizationConfig(recipe));
        var pruneAndQuantize = recipe with { Weights = QuantizationPresets.W4A16 };
        Assert.Equal("pack-quantized", CompressedTensorsWriter.QuantizationConfig(pruneAndQuantize)!["format"]!.GetValue<string>());
        Assert.Equal(new JsonObject().ToJsonString(), CompressedTensorsWriter.QuantizationConfig(pruneAndQuantize)!["sparsity_config"]!.ToJsonString());
    }

    [Fact]
    public void Kit_suffix_names_become_regexes_vllm_matches_and_lm_head_is_ignored_or_targeted_by_name()
    {
        var recipe = Recipe("W4A16") with { Targets = ["Linear"], Ignore = ["lm_head", "mlp.down_proj", "re:.*k_proj", "model.layers.0.mlp.up_proj"] };
        var config = CompressedTensorsConfig.FromRecipe(recipe)!;
        Assert.Equal(["lm_head", @"re:(.*\.)?mlp\.down_proj$", "re:.*k_proj", "model.layers.0.mlp.up_proj"], config.Ignore);
        Assert.Null(config.GroupOf("model.layers.3.mlp.down_proj"));
        Assert.Null(config.GroupOf("model.layers.3.self_attn.k_proj"));
        Assert.Null(config.GroupOf("model.layers.0.mlp.up_proj"));
        Assert.NotNull(config.GroupOf("model.layers.1.mlp.up_proj"));
        Assert.NotNull(config.GroupOf("model.layers.3.mlp.gate_proj"));

        // Nothing ignored: the recipe quantizes lm_head too, and vLLM's "Linear" does not reach its head, so the name does.
        var noIgnore = CompressedTensorsConfig.FromRecipe(Recipe("W4A16") with { Ignore = [] })!;
        Assert.Empty(noIgnore.Ignore);
        Assert.Equal(["Linear", "lm_head"], noIgnore.Groups.Single().Targets);
        Assert.NotNull(noIgnore.GroupOf("lm_head"));

        // A head that is only pruned before quantizing stays dense, so vLLM must not look for its packed weight.
        var prunedHead = CompressedTensorsConfig.FromRecipe(Recipe("W4A16") with
        {
            Ignore = [], Targets = [@"re:model\.layers\..*"],
            PruneFirst = new PruningStep { Method = CompressionMethod.Magnitude, Sparsity = SparsityPattern.NOfM(2, 4), Ignore = [] },
        })!;
        Assert.Equal(["lm_head"], prunedHead.Ignore);
        Assert.Null(prunedHead.GroupOf("lm_head"));
    }

    public static TheoryData<string, string, string> Refused() => new()
    {
        { "W8A8-asym", "none", "symmetric" },
        { "W8A8-group", "none", "per group" },
        { "FP8-group", "none", "FP8 with groups" },
        { "W3A16", "none", "4- or 8-bit" },
        { "W4A16-tensor", "none", "per-channel or per-group" },
        { "W4A16-channel", "group", "needs the group strategy" },
    };

    [Theory]
    [MemberData(nameof(Refused))]
    public void Schemes_vllm_would_refuse_are_rejected_naming_the_field(string scheme, string actOrder, string because)
    {
        var recipe = scheme switch
        {
            "W8A8-asym" => Recipe("W8A8") with { Weights = QuantizationPresets.W8A8 with { Symmetric = false } },
            "W8A8-group" => Recipe("W8A8") with { Weights = QuantizationPresets.W8A8 with { Strategy = QuantizationStrategy.Group, GroupSize = 128 } },
            "FP8-group" => Recipe("FP8_DYNAMIC") with { Weights = QuantizationPresets.Fp8 with { Strategy = QuantizationStrategy.Group, GroupSize = 128 } },
            "W3A16" => Recipe("W4A16") with { Weights = QuantizationPresets.W4A16 with { NumBits = 3 } },
            "W4A16-tensor" => Recipe("W4A16") with { Weights = QuantizationPresets.W4A16 with { Strategy = QuantizationStrategy.Tensor } },
            "W4A16-channel" => Recipe("W4A16") with { Weights = QuantizationPresets.W4A16 with { Strategy = QuantizationStrategy.Channel } },
            _ => Recipe(scheme),
        } with { ActOrder = ActOrders.Parse(actOrder) };
        var e = Assert.Throws<ArgumentException>(() => CompressedTensorsConfig.FromRecipe(recipe));
        Assert.StartsWith("CompressionRecipe.", e.Message);
        Assert.Contains(because, e.Message);
    }

    [Fact]
    public void Parsing_the_written_config_gives_back_the_grid_and_act_order()
    {
        var mse = QuantizationPresets.W4A16Asym with { GroupSize = 32, Observer = QuantizationObserver.Mse, MseNorm = 2.5, MseGrid = 50, MseMaxShrink = 0.3 };
        var recipe = Recipe("W4A16") with { Weights = mse, ActOrder = ActOrder.Group };
        var parsed = CompressedTensorsConfig.Parse(CompressedTensorsWriter.QuantizationConfig(recipe), "config.json");
        var group = Assert.Single(parsed.Groups);
        Assert.Equal(mse, group.Weights);
        Assert.Equal(ActOrder.Group, group.ActOrder);
        Assert.Null(group.InputActivations);
        Assert.Equal(["Linear"], group.Targets);
        Assert.Equal("pack-quantized", parsed.Format);
        Assert.Equal("0.12.2", parsed.Version);

        var w8a8 = CompressedTensorsConfig.Parse(CompressedTensorsWriter.QuantizationConfig(Recipe("W8A8")), "config.json");
        Assert.Equal(ActivationQuantization.Int8DynamicToken, w8a8.Groups[0].InputActivations);
        Assert.Equal(QuantizationPresets.W8A8, w8a8.Groups[0].Weights);
    }

    [Fact]
    public void Write_quantization_config_keeps_the_other_fields_of_config_json()
    {
        string dir = TestPaths.NewTempDir(), path = Path.Combine(dir, "config.json");
        File.WriteAllText(path, CtTestData.PlainConfig);
        CompressedTensorsWriter.WriteQuantizationConfig(path, CompressedTensorsWriter.QuantizationConfig(Recipe("W4A16"))!);
        var root = JsonNode.Parse(File.ReadAllText(path))!;
        Assert.Equal("llama", root["model_type"]!.GetValue<string>());
        Assert.Equal("compressed-tensors", root["quantization_config"]!["quant_method"]!.GetValue<string>());
        Assert.Equal([path], Directory.GetFiles(dir));
    }
}
