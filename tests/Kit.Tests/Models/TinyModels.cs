using Kit.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Kit.Tests.Models;

/// <summary>Tiny random configs of each supported architecture, and random weights for them.</summary>
internal static class TinyModels
{
    public static ModelConfig Llama(bool tied = false, RopeScaling? rope = null) => new()
    {
        ModelType = "llama", HiddenSize = 32, IntermediateSize = 48, NumHiddenLayers = 2, NumAttentionHeads = 4,
        NumKeyValueHeads = 2, HeadDim = 8, VocabSize = 40, RmsNormEps = 1e-5, RopeTheta = 500000,
        TieWordEmbeddings = tied, RopeScaling = rope, MaxPositionEmbeddings = 256,
    };

    public static ModelConfig Llama3Scaled() => Llama(rope: new RopeScaling("llama3", 8, 1, 4, 16));

    public static ModelConfig Mistral() => Llama() with { ModelType = "mistral", NumKeyValueHeads = 1, SlidingWindow = 3, RopeTheta = 10000 };

    public static ModelConfig Qwen2() => Llama(tied: true) with { ModelType = "qwen2", AttentionQkvBias = true, RopeTheta = 1000000 };

    public static IEnumerable<object[]> All() => new[]
    {
        new object[] { "llama" }, new object[] { "llama-tied" }, new object[] { "llama3-rope" },
        new object[] { "mistral" }, new object[] { "qwen2" },
    };

    public static ModelConfig ByName(string name) => name switch
    {
        "llama" => Llama(),
        "llama-tied" => Llama(tied: true),
        "llama3-rope" => Llama3Scaled(),
        "mistral" => Mistral(),
        "qwen2" => Qwen2(),
        _ => throw new ArgumentException(name),
    };

    /// <summary>Random weights for every parameter of <paramref name="config"/>, as float64 arrays by checkpoint name.</summary>
    public static Dictionary<string, double[]> RandomWeights(ModelConfig config, int seed)
    {
        using var shell = new CausalLM(config, ScalarType.Float64);
        var rng = new Random(seed);
        var weights = new Dictionary<string, double[]>();
        foreach (var (name, p) in shell.named_parameters())
        {
            bool norm = name.EndsWith("norm.weight");
            weights[name] = Enumerable.Range(0, (int)p.NumberOfElements)
                .Select(_ => norm ? 1 + 0.1 * (rng.NextDouble() - 0.5) : 0.4 * (rng.NextDouble() - 0.5)).ToArray();
        }
        if (config.TieWordEmbeddings) weights.Remove("lm_head.weight");
        return weights;
    }

    /// <summary>A model holding <paramref name="weights"/> in <paramref name="dtype"/>.</summary>
    public static CausalLM Build(ModelConfig config, Dictionary<string, double[]> weights, ScalarType dtype = ScalarType.Float64)
    {
        var model = new CausalLM(config, dtype);
        using var _ = no_grad();
        foreach (var (name, p) in model.named_parameters())
        {
            var key = weights.ContainsKey(name) ? name : "model.embed_tokens.weight";
            using var t = tensor(weights[key], p.shape, ScalarType.Float64).to_type(dtype);
            p.copy_(t);
        }
        return model;
    }
}
