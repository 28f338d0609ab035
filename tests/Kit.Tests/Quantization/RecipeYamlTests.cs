using Kit.Quantization;

namespace Kit.Tests.Quantization;

public sealed class RecipeYamlTests
{
    [Fact]
    public void Llm_compressor_gptq_recipe_reads_as_written()
    {
        var recipe = RecipeYaml.Parse("""
            quant_stage:
              quant_modifiers:
                GPTQModifier:
                  targets: [Linear]
                  ignore: ["lm_head", "re:.*down_proj"]
                  scheme: W4A16
                  block_size: 64
                  dampening_frac: 0.05
                  actorder: static
            """);
        Assert.Equal(CompressionMethod.Gptq, recipe.Method);
        Assert.Equal("W4A16", recipe.Scheme);
        Assert.Equal(QuantizationPresets.W4A16, recipe.Weights);
        Assert.Equal((64, 0.05, ActOrder.Static), (recipe.BlockSize, recipe.DampeningFraction, recipe.ActOrder));
        Assert.True(recipe.Applies("model.layers.0.self_attn.q_proj"));
        Assert.False(recipe.Applies("model.layers.0.mlp.down_proj"));
        Assert.False(recipe.Applies("lm_head"));
    }

    [Fact]
    public void Sparsegpt_then_a_quantization_stage_prunes_first_then_quantizes_with_its_own_settings()
    {
        var recipe = RecipeYaml.Parse("""
            sparsity_stage:
              sparsity_modifiers:
                SparseGPTModifier:
                  sparsity: 0.5
                  mask_structure: "2:4"
            quantization_stage:
              quantization_modifiers:
                QuantizationModifier:
                  config_groups:
                    group_0:
                      targets: [Linear]
                      weights: {num_bits: 8, type: int, symmetric: false, strategy: channel}
            """);
        Assert.Equal(CompressionMethod.Rtn, recipe.Method);
        Assert.Null(recipe.Sparsity);
        Assert.Equal(SparsityPattern.NOfM(2, 4), recipe.PruneFirst!.Sparsity);
        Assert.Equal(CompressionMethod.SparseGpt, recipe.PruneFirst.Method);
        Assert.Equal(new QuantizationArgs { NumBits = 8, Symmetric = false, Strategy = QuantizationStrategy.Channel, GroupSize = null }, recipe.Weights);
    }

    [Fact]
    public void W8a8_scheme_records_dynamic_per_token_activations()
    {
        var recipe = RecipeYaml.Parse("s:\n  g:\n    QuantizationModifier:\n      scheme: W8A8\n");
        Assert.Equal(CompressionMethod.Rtn, recipe.Method);
        Assert.Equal("int8-dynamic-token", recipe.InputActivations);
        Assert.Equal(QuantizationStrategy.Channel, recipe.Weights!.Strategy);
    }

    [Theory]
    [InlineData("s:\n  g:\n    AWQModifier: {}\n", "add a quantization modifier (QuantizationModifier or GPTQModifier) with a scheme")]
    [InlineData("s:\n  g:\n    QuIPModifier:\n      rotations: [v, u]\n    QuantizationModifier:\n      scheme: W4A16\n", "QuIP's rotations (u, v) multiply each Linear's inputs and outputs at run time")]
    [InlineData("s:\n  g:\n    SpinQuantModifier:\n      rotations: [R1, R2, R4]\n    QuantizationModifier:\n      scheme: W4A16\n", "SpinQuantModifier.rotations: R4 rotate activations at run time (online)")]
    [InlineData("s:\n  g:\n    SpinQuantModifier:\n      learnable: true\n    QuantizationModifier:\n      scheme: W4A16\n", "SpinQuantModifier.learnable: true (SpinQuant's trained rotations) is not supported")]
    [InlineData("s:\n  g:\n    QuantizationModifier:\n      scheme: W4A16\n    SpinQuantModifier: {}\n", "SpinQuantModifier after QuantizationModifier")]
    [InlineData("s:\n  g:\n    AWQModifier:\n      mappings: [{smooth_layer: x, balance_layers: [y]}]\n      scheme: W4A16\n", "AWQModifier.mappings: Kit uses llm-compressor's Llama mappings")]
    [InlineData("s:\n  g:\n    AWQModifier:\n      duo_scaling: sometimes\n      scheme: W4A16\n", "AWQModifier.duo_scaling: expected true, false or both, got 'sometimes'")]
    [InlineData("s:\n  g:\n    SmoothQuantModifier:\n      smoothing_strength: 1.5\n    GPTQModifier:\n      scheme: W8A8\n", "smoothing strength must lie in [0, 1], got 1.5")]
    [InlineData("s:\n  g:\n    AWQModifier:\n      scheme: W4A16\n    SparseGPTModifier:\n      sparsity: 0.5\n", "would prune quantized weights")]
    [InlineData("s:\n  g:\n    GPTQModifier:\n      scheme: W3A99\n", "unknown quantization scheme 'W3A99'")]
    [InlineData("s:\n  g:\n    GPTQModifier:\n      scheme: W4A16\n      blocksize: 3\n", "GPTQModifier: unknown or unsupported key 'blocksize'")]
    [InlineData("s:\n  g:\n    SparseGPTModifier:\n      sparsity: lots\n", "SparseGPTModifier.sparsity: expected a number, got 'lots'")]
    [InlineData("s:\n  g:\n    GPTQModifier:\n      scheme: W4A16\n      block_size: 12.5\n", "GPTQModifier.block_size: expected a whole number, got '12.5'")]
    [InlineData("s:\n  g:\n    GPTQModifier:\n      scheme: W4A16\n      dampening_frac: a lot\n", "GPTQModifier.dampening_frac: expected a number, got 'a lot'")]
    [InlineData("s:\n  g:\n    GPTQModifier:\n      config_groups:\n        group_0:\n          targets: [Linear]\n          weights: {num_bits: four}\n", "group_0.weights.num_bits: expected a whole number, got 'four'")]
    [InlineData("s:\n  g:\n    GPTQModifier:\n      config_groups:\n        group_0:\n          targets: [Linear]\n          weights: {num_bits: 4, symmetric: maybe}\n", "weights.symmetric: expected true or false, got 'maybe'")]
    [InlineData("s:\n  g:\n    GPTQModifier:\n      scheme: W4A16\n      actorder: \"null\"\n", "GPTQModifier.actorder: 'null' is not an act-order")]
    [InlineData("s:\n  g:\n    GPTQModifier:\n      config_groups:\n        group_0:\n          targets: [Linear]\n          weights: {num_bits: 4, strategy: group, group_size: 128, actorder: group}\n      actorder: weight\n", "differ")]
    [InlineData("s:\n  g:\n    GPTQModifier:\n      config_groups:\n        group_0:\n          targets: [Linear]\n          weights: {num_bits: 8, strategy: channel}\n          input_activations: {num_bits: 8, type: int, symmetric: true, strategy: tensor, dynamic: false}\n", "static per-tensor activations are not supported")]
    [InlineData("s:\n  g:\n    GPTQModifier:\n      scheme: W4A16\n      kv_cache_scheme: null\n", "GPTQModifier: unknown or unsupported key 'kv_cache_scheme'")]
    [InlineData("s:\n  g:\n    QuantizationModifier:\n      scheme: FP8\n", "scheme FP8 is not supported")]
    [InlineData("s:\n  g:\n    GPTQModifier:\n      scheme: W4A8\n", "scheme W4A8 is not supported")]
    [InlineData("s:\n  g:\n    QuantizationModifier:\n      scheme: W4A16\n    GPTQModifier:\n      actorder: static\n", "GPTQModifier.actorder has no effect")]
    [InlineData("s:\n  g:\n    QuantizationModifier:\n      scheme: W4A16\n    GPTQModifier:\n      scheme: W8A16\n", "both give a quantization config")]
    [InlineData("s:\n  g:\n    GPTQModifier:\n      scheme: W4A16\n    SparseGPTModifier:\n      sparsity: 0.5\n", "would prune quantized weights")]
    [InlineData("s:\n  g:\n    SparseGPTModifier:\n      mask_structure: 4:2\n      sparsity: 0.5\n", "SparseGPTModifier.mask_structure")]
    [InlineData("s: [unclosed\n", "invalid YAML")]
    [InlineData("s:\n  g:\n    GPTQModifier: {}\n", "needs a quantization scheme")]
    public void Bad_recipes_name_the_problem(string yaml, string message)
    {
        var e = Assert.ThrowsAny<Exception>(() => RecipeYaml.Parse(yaml, "my.yaml"));
        Assert.Contains(message, e.Message);
    }

    [Theory]
    [InlineData("actorder: null", ActOrder.None)]
    [InlineData("actorder: ~", ActOrder.None)]
    [InlineData("actorder: False", ActOrder.None)]
    [InlineData("actorder: True", ActOrder.Group)]
    [InlineData("actorder: weight", ActOrder.Static)]
    [InlineData("actorder: static", ActOrder.Static)]
    [InlineData("actorder: dynamic", ActOrder.Group)]
    [InlineData("actorder: group", ActOrder.Group)]
    [InlineData("block_size: 128", ActOrder.Static)]
    public void Gptq_actorder_reads_llm_compressors_spellings_and_defaults_to_static(string line, ActOrder expected)
    {
        var recipe = RecipeYaml.Parse($"s:\n  g:\n    GPTQModifier:\n      scheme: W4A16\n      {line}\n");
        Assert.Equal(expected, recipe.ActOrder);
    }

    [Fact]
    public void Each_modifier_keeps_its_own_targets_ignore_and_damping()
    {
        var recipe = RecipeYaml.Parse("""
            sparsity_stage:
              sparsity_modifiers:
                SparseGPTModifier:
                  sparsity: 0.5
                  dampening_frac: 0.1
                  block_size: 64
                  ignore: ["re:.*q_proj"]
            quant_stage:
              quant_modifiers:
                GPTQModifier:
                  scheme: W4A16
                  dampening_frac: 0.02
                  ignore: [lm_head, "re:.*down_proj"]
            """);
        Assert.Equal((0.02, 128), (recipe.DampeningFraction, recipe.BlockSize));
        Assert.Equal((0.1, 64), (recipe.PruneFirst!.DampeningFraction, recipe.PruneFirst.BlockSize));
        Assert.False(recipe.PruneFirst.Applies("model.layers.0.self_attn.q_proj"));
        Assert.True(recipe.Quantizes("model.layers.0.self_attn.q_proj"));
        Assert.True(recipe.PruneFirst.Applies("model.layers.0.mlp.down_proj"));
        Assert.False(recipe.Quantizes("model.layers.0.mlp.down_proj"));
    }
}
