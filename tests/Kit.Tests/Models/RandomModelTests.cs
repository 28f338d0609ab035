using Kit.Models;
using static TorchSharp.torch;

namespace Kit.Tests.Models;

public sealed class RandomModelTests
{
    [Fact]
    public void Random_model_loads_with_one_shard_per_layer_and_initialised_weights()
    {
        var config = TinyModels.Llama() with { HiddenSize = 64, IntermediateSize = 128, VocabSize = 1024, HeadDim = 16 };
        var folder = Path.Combine(TestPaths.NewTempDir(), "random");
        RandomModel.Write(config, folder, seed: 3, dtype: ScalarType.BFloat16);

        Assert.Equal(config.NumHiddenLayers + 1, Directory.GetFiles(folder, "*.safetensors").Length);
        using var lm = LanguageModel.Load(folder, new ModelLoadOptions { Device = "cpu" });
        Assert.Equal(config.ParameterCount, lm.Model.parameters().Sum(p => p.NumberOfElements));
        var q = ((Linear)lm.Model.Model.Layers[1].SelfAttn.QProj).Weight;
        Assert.InRange(q.std().item<float>(), 0.018, 0.022);
        Assert.InRange(q.mean().item<float>(), -0.002, 0.002);
        Assert.True(lm.Model.Model.Norm.Weight.eq(1).all().item<bool>());
        Assert.Equal("bfloat16", ModelConfig.Load(Path.Combine(folder, "config.json")).TorchDtype);
    }

    [Fact]
    public void Known_shapes_have_their_published_parameter_counts()
    {
        // TinyLlama-1.1B: 1,100,048,384 parameters; SmolLM-135M: 134,515,008 (tied embeddings).
        Assert.Equal(1_100_048_384, ModelShapes.TinyLlama11B.ParameterCount);
        Assert.Equal(134_515_008, ModelShapes.SmolLM135M.ParameterCount);
        Assert.Equal(6_738_415_616, ModelShapes.Llama2_7B.ParameterCount);   // Llama-2-7b-hf's published count
        Assert.Contains("known: tinyllama-1.1b", Assert.Throws<ArgumentException>(() => ModelShapes.Get("gpt-5")).Message);
    }
}
