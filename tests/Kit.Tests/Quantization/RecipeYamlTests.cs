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
        Assert.Equal((64, 0.05, "static"), (recipe.BlockSize, recipe.DampeningFraction, recipe.ActOrder));
        Assert.True(recipe.Applies("model.layers.0.self_attn.q_proj"));
        Assert.False(recipe.Applies("model.layers.0.mlp.down_proj"));
        Assert.False(recipe.Applies("lm_head"));
    }

    [Fact]
    public void Sparsegpt_with_a_quantization_stage_prunes_and_quantizes_in_one_pass()
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
        Assert.Equal(CompressionMethod.SparseGpt, recipe.Method);
        Assert.Equal(SparsityPattern.NOfM(2, 4), recipe.Sparsity);
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
    [InlineData("s:\n  g:\n    AWQModifier: {}\n", "modifier 'AWQModifier' is not supported")]
    [InlineData("s:\n  g:\n    GPTQModifier:\n      scheme: W3A99\n", "unknown quantization scheme 'W3A99'")]
    [InlineData("s:\n  g:\n    GPTQModifier:\n      scheme: W4A16\n      blocksize: 3\n", "GPTQModifier has no argument 'blocksize'")]
    [InlineData("s:\n  g:\n    SparseGPTModifier:\n      sparsity: lots\n", "expected a number, got 'lots'")]
    [InlineData("s:\n  g:\n    SparseGPTModifier:\n      mask_structure: 4:2\n      sparsity: 0.5\n", "SparseGPTModifier.mask_structure")]
    [InlineData("s: [unclosed\n", "invalid YAML")]
    [InlineData("s:\n  g:\n    GPTQModifier: {}\n", "needs a quantization scheme")]
    public void Bad_recipes_name_the_problem(string yaml, string message)
    {
        var e = Assert.ThrowsAny<Exception>(() => RecipeYaml.Parse(yaml, "my.yaml"));
        Assert.Contains(message, e.Message);
    }
}
