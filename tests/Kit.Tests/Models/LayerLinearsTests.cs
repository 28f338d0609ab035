using Kit.Models;
using static TorchSharp.torch;

namespace Kit.Tests.Models;

public sealed class LayerLinearsTests
{
    [Fact]
    public void Every_listed_shape_is_the_shape_of_the_module_a_built_model_holds_there()
    {
        // Grouped-query attention (2 key/value heads of 4) and an MLP wider than the residual, so that no two shapes coincide by accident.
        var config = TinyModels.Llama() with { NumAttentionHeads = 4, NumKeyValueHeads = 2, HeadDim = 6, IntermediateSize = 40 };
        using var model = new CausalLM(config, ScalarType.Float32, CPU);
        var linears = model.Linears().ToList();
        Assert.Equal(config.NumHiddenLayers * LayerLinears.All.Count + 1, linears.Count);
        foreach (var (name, module) in linears)
            Assert.Equal(((Kit.Models.Linear)module).Weight.shape, LayerLinears.Shape(config, name));
        Assert.Equal(new long[] { 24, config.HiddenSize }, LayerLinears.Shape(config, "model.layers.0.self_attn.q_proj"));
        Assert.Equal(new long[] { 12, config.HiddenSize }, LayerLinears.Shape(config, "model.layers.1.self_attn.v_proj"));
    }

    [Theory]
    [InlineData("model.layers.0.mlp.fc1")]          // not a Llama Linear
    [InlineData("model.layers.9.mlp.up_proj")]      // past the last layer
    [InlineData("model.layers.x.mlp.up_proj")]
    [InlineData("model.embed_tokens")]
    [InlineData("mlp.up_proj")]
    public void Names_the_model_does_not_have_have_no_shape(string name) =>
        Assert.Null(LayerLinears.Shape(TinyModels.Llama(), name));

    [Fact]
    public void A_tied_head_is_not_a_linear_of_its_own() =>
        Assert.Null(LayerLinears.Shape(TinyModels.Llama(tied: true), CausalLM.HeadName));
}
