using System.Text.Json.Nodes;
using Kit.Formats.CompressedTensors;
using Kit.Quantization;
using Kit.Quantization.Transforms;

namespace Kit.Tests.Quantization;

/// <summary>
/// Recipes as llm-compressor's own tests write them (tests/e2e/recipes, tests/llmcompressor/transformers/compression/recipes),
/// and the quantization_config llm-compressor writes for them, derived by hand from compressed-tensors' QuantizationArgs
/// defaults (observer minmax for static weights, none for dynamic activations; strategy inferred; actorder as resolved
/// by GPTQModifier.resolve_actorder).
/// </summary>
public sealed class LlmCompressorRecipeTests
{
    // compressed-tensors' QuantizationArgs as serialised (sort_keys), for the weights of a config group.
    static string Weights(int bits, string strategy, int? groupSize, bool symmetric, string? actOrder) =>
        $$"""{"actorder":{{(actOrder is null ? "null" : $"\"{actOrder}\"")}},"block_structure":null,"dynamic":false,"group_size":{{(groupSize?.ToString() ?? "null")}},"num_bits":{{bits}},"observer":"minmax","observer_kwargs":{},"strategy":"{{strategy}}","symmetric":{{(symmetric ? "true" : "false")}},"type":"int"}""";

    static string Group(string format, string weights, string inputs = "null") =>
        $$"""{"format":"{{format}}","input_activations":{{inputs}},"output_activations":null,"targets":["Linear"],"weights":{{weights}}}""";

    // ActivationOrdering is Aliasable: "weight" == "static", "dynamic" == "group"; Kit writes the canonical names.
    static string Canonical(JsonNode? node) => node!.ToJsonString().Replace("\"actorder\":\"weight\"", "\"actorder\":\"static\"")
        .Replace("\"actorder\":\"dynamic\"", "\"actorder\":\"group\"");

    static JsonObject Config(string yaml) => CompressedTensorsWriter.QuantizationConfig(RecipeYaml.Parse(yaml, "recipe.yaml"))!;

    static void AssertGroup(string expected, JsonObject config, string format)
    {
        Assert.Equal(Canonical(JsonNode.Parse(expected)), Canonical(config["config_groups"]!["group_0"]));
        Assert.Equal(format, config["format"]!.GetValue<string>());
        Assert.Single(config["config_groups"]!.AsObject());
    }

    // llm-compressor lists the unquantized Linears by name; Kit lists the recipe's patterns, which vLLM resolves alike.
    static void AssertIgnores(JsonObject config, params string[] ignored)
    {
        var parsed = CompressedTensorsConfig.Parse(config, "config.json");
        foreach (var name in ignored) Assert.Null(parsed.GroupOf(name));
        Assert.NotNull(parsed.GroupOf("model.layers.1.mlp.down_proj"));
        Assert.NotNull(parsed.GroupOf("model.layers.0.self_attn.q_proj"));
    }

    // tests/e2e/recipes/actorder/recipe_w4a16_actorder_weight.yaml
    const string ActOrderWeight = """
        quant_stage:
          quant_modifiers:
            GPTQModifier:
              ignore: ["lm_head", "re:.*vision_tower.*", "re:.*multi_modal_projector.*", "re:.*visual.*", "re:.*vision_model.*"]
              actorder: "weight"
              config_groups:
                group_0:
                  weights:
                    num_bits: 4
                    type: "int"
                    symmetric: true
                    strategy: "group"
                    group_size: 128
                  targets: ["Linear"]
        """;

    [Fact]
    public void Gptq_actorder_weight_gives_llm_compressors_w4a16_config()
    {
        var recipe = RecipeYaml.Parse(ActOrderWeight);
        Assert.Equal((CompressionMethod.Gptq, ActOrder.Static), (recipe.Method, recipe.ActOrder));
        var config = Config(ActOrderWeight);
        AssertGroup(Group("pack-quantized", Weights(4, "group", 128, true, "weight")), config, "pack-quantized");
        AssertIgnores(config, "lm_head");
    }

    [Fact]
    public void Gptq_without_an_actorder_key_takes_llm_compressors_default_static()
    {
        string yaml = ActOrderWeight.Replace("      actorder: \"weight\"\n", "");
        Assert.DoesNotContain("actorder", yaml);
        Assert.Equal(ActOrder.Static, RecipeYaml.Parse(yaml).ActOrder);
        AssertGroup(Group("pack-quantized", Weights(4, "group", 128, true, "static")), Config(yaml), "pack-quantized");
    }

    // tests/llmcompressor/transformers/compression/recipes/new_quant_channel.yaml
    const string QuantChannel = """
        test_stage:
            quant_modifiers:
                QuantizationModifier:
                    ignore: ["lm_head", "model.layers.0.mlp.down_proj"]
                    config_groups:
                        group_0:
                            weights:
                                num_bits: 4
                                type: "int"
                                symmetric: False
                                strategy: "channel"
                            input_activations: null
                            output_activations: null
                            targets: ["Linear"]
                GPTQModifier:
                    block_size: 128
        """;

    [Theory]
    [InlineData("False", false)]
    [InlineData("True", true)]
    [InlineData("false", false)]
    [InlineData("true", true)]
    public void Yaml_booleans_in_any_spelling_set_symmetric(string spelled, bool symmetric)
    {
        string yaml = QuantChannel.Replace("symmetric: False", $"symmetric: {spelled}");
        var recipe = RecipeYaml.Parse(yaml);
        Assert.Equal(symmetric, recipe.Weights!.Symmetric);
        // QuantizationModifier's scheme with no actorder: GPTQModifier without a config leaves it unset.
        AssertGroup(Group("pack-quantized", Weights(4, "channel", null, symmetric, null)), Config(yaml), "pack-quantized");
    }

    // tests/llmcompressor/transformers/compression/recipes/new_quant_actorder_weight.yaml
    const string QuantThenGptq = """
        test_stage:
            quant_modifiers:
                QuantizationModifier:
                    ignore: ["lm_head", "model.layers.0.mlp.down_proj"]
                    config_groups:
                        group_0:
                            weights:
                                num_bits: 4
                                type: "int"
                                symmetric: False
                                strategy: "group"
                                group_size: 128
                                actorder: "weight"
                            input_activations: null
                            output_activations: null
                            targets: ["Linear"]
                GPTQModifier:
                    block_size: 128
        """;

    [Fact]
    public void Quantization_modifier_then_gptq_runs_gptq_on_the_first_ones_scheme_and_ignore_list()
    {
        var recipe = RecipeYaml.Parse(QuantThenGptq);
        Assert.Equal((CompressionMethod.Gptq, ActOrder.Static, 128), (recipe.Method, recipe.ActOrder, recipe.BlockSize));
        Assert.False(recipe.Applies("model.layers.0.mlp.down_proj"));
        Assert.True(recipe.Applies("model.layers.1.mlp.down_proj"));
        var config = Config(QuantThenGptq);
        AssertGroup(Group("pack-quantized", Weights(4, "group", 128, false, "weight")), config, "pack-quantized");
        AssertIgnores(config, "lm_head", "model.layers.0.mlp.down_proj");
    }

    // The GPTQModifier of tests/e2e/recipes/INT8/recipe_int8_channel_weight_dynamic_per_token.yaml (its SmoothQuantModifier is refused, below).
    const string W8A8 = """
        quant_stage:
          quant_modifiers:
            GPTQModifier:
              ignore: ["lm_head", "re:.*vision_tower.*", "re:.*multi_modal_projector.*", "re:.*visual.*", "re:.*vision_model.*"]
              actorder: null
              config_groups:
                group_0:
                  weights: {num_bits: 8, type: int, symmetric: true, strategy: channel}
                  input_activations: {num_bits: 8, type: int, symmetric: true, strategy: token, dynamic: true}
                  targets: [Linear]
        """;

    [Fact]
    public void W8a8_config_groups_keep_dynamic_per_token_input_activations_as_the_w8a8_preset()
    {
        const string inputs = """{"actorder":null,"block_structure":null,"dynamic":true,"group_size":null,"num_bits":8,"observer":null,"observer_kwargs":{},"strategy":"token","symmetric":true,"type":"int"}""";
        var config = Config(W8A8);
        AssertGroup(Group("int-quantized", Weights(8, "channel", null, true, null), inputs), config, "int-quantized");
        var preset = RecipeYaml.Parse("s:\n  m:\n    GPTQModifier:\n      scheme: W8A8\n      ignore: [lm_head]\n");
        Assert.Equal(preset.InputActivations, RecipeYaml.Parse(W8A8).InputActivations);
        Assert.Equal(preset.Weights, RecipeYaml.Parse(W8A8).Weights);
    }

    [Fact]
    public void Smoothquant_in_llm_compressors_w8a8_recipe_smooths_before_gptq()
    {
        string yaml = W8A8.Replace("    GPTQModifier:", "    SmoothQuantModifier:\n      smoothing_strength: 0.8\n    GPTQModifier:");
        var recipe = RecipeYaml.Parse(yaml, "int8.yaml");
        Assert.Equal(new SmoothQuantOptions { Strength = 0.8 }, recipe.Smoothing);
        Assert.Equal(CompressionMethod.Gptq, recipe.Method);
        Assert.Equal(RecipeYaml.Parse(W8A8).Weights, recipe.Weights);
    }

    // examples/awq/llama_example.py: AWQModifier(ignore=["lm_head"], scheme="W4A16_ASYM", targets=["Linear"]), which
    // searches scales and then quantizes with round-to-nearest.
    [Fact]
    public void Awq_with_a_scheme_smooths_and_rounds_and_before_gptq_it_hands_gptq_the_scheme()
    {
        var awq = RecipeYaml.Parse("stage:\n  mods:\n    AWQModifier:\n      ignore: [lm_head]\n      scheme: W4A16_ASYM\n      targets: [Linear]\n      duo_scaling: both\n      n_grid: 10\n");
        Assert.Equal(new AwqOptions { Grid = 10, DuoScaling = AwqDuoScaling.Both }, awq.Smoothing);
        Assert.Equal((CompressionMethod.Rtn, "W4A16_ASYM", false), (awq.Method, awq.Scheme, awq.Weights!.Symmetric));
        var thenGptq = RecipeYaml.Parse("stage:\n  mods:\n    AWQModifier:\n      scheme: W4A16\n    GPTQModifier:\n      dampening_frac: 0.05\n");
        Assert.Equal((CompressionMethod.Gptq, 0.05), (thenGptq.Method, thenGptq.DampeningFraction));
        Assert.IsType<AwqOptions>(thenGptq.Smoothing);
        var smoothingOnly = RecipeYaml.Parse("stage:\n  mods:\n    AWQModifier:\n      duo_scaling: false\n    QuantizationModifier:\n      scheme: W4A16\n");
        Assert.Equal(new AwqOptions { DuoScaling = AwqDuoScaling.ActivationsOnly }, smoothingOnly.Smoothing);
    }

    // examples/transform/spinquant_example.py: SpinQuantModifier(rotations=["R1", "R2"], transform_type="hadamard"), then W4A16.
    [Theory]
    [InlineData("rotations: [R1, R2]\n      transform_type: hadamard", RotationKind.Hadamard, true)]
    [InlineData("rotations: [R1]\n      transform_type: random-matrix", RotationKind.RandomMatrix, false)]
    [InlineData("transform_type: hadamard\n      randomize: true", RotationKind.RandomHadamard, true)]
    public void Spinquant_rotations_r1_and_r2_fold_into_the_weights(string settings, RotationKind kind, bool heads)
    {
        var recipe = RecipeYaml.Parse($"stage:\n  mods:\n    SpinQuantModifier:\n      {settings}\n    QuantizationModifier:\n      targets: Linear\n      scheme: W4A16\n      ignore: [lm_head]\n");
        Assert.Equal(new RotationOptions { Kind = kind, RotateHeads = heads }, recipe.Rotation);
        Assert.Equal(CompressionMethod.Rtn, recipe.Method);
    }
}
