namespace Kit.Models;

/// <summary>Architectures of well-known checkpoints, for building random models of the same shape (benchmarks, memory tests).</summary>
public static class ModelShapes
{
    /// <summary>TinyLlama-1.1B (Llama 2 architecture, 22 layers, grouped-query attention).</summary>
    public static ModelConfig TinyLlama11B { get; } = new()
    {
        ModelType = "llama", HiddenSize = 2048, IntermediateSize = 5632, NumHiddenLayers = 22, NumAttentionHeads = 32,
        NumKeyValueHeads = 4, HeadDim = 64, VocabSize = 32000, MaxPositionEmbeddings = 2048, RmsNormEps = 1e-5,
        RopeTheta = 10000, BosTokenId = 1, EosTokenIds = new[] { 2 },
    };

    /// <summary>SmolLM-135M (Llama architecture, 30 narrow layers, tied embeddings).</summary>
    public static ModelConfig SmolLM135M { get; } = new()
    {
        ModelType = "llama", HiddenSize = 576, IntermediateSize = 1536, NumHiddenLayers = 30, NumAttentionHeads = 9,
        NumKeyValueHeads = 3, HeadDim = 64, VocabSize = 49152, MaxPositionEmbeddings = 2048, RmsNormEps = 1e-5,
        RopeTheta = 10000, TieWordEmbeddings = true, BosTokenId = 0, EosTokenIds = new[] { 0 },
    };

    /// <summary>Llama-2-7B (32 layers of width 4096, multi-head attention, untied head): 6.74 B parameters.</summary>
    public static ModelConfig Llama2_7B { get; } = new()
    {
        ModelType = "llama", HiddenSize = 4096, IntermediateSize = 11008, NumHiddenLayers = 32, NumAttentionHeads = 32,
        NumKeyValueHeads = 32, HeadDim = 128, VocabSize = 32000, MaxPositionEmbeddings = 4096, RmsNormEps = 1e-5,
        RopeTheta = 10000, BosTokenId = 1, EosTokenIds = new[] { 2 },
    };

    /// <summary>The shapes by name, for the command line.</summary>
    public static IReadOnlyDictionary<string, ModelConfig> ByName { get; } = new Dictionary<string, ModelConfig>(StringComparer.OrdinalIgnoreCase)
    {
        ["tinyllama-1.1b"] = TinyLlama11B,
        ["smollm-135m"] = SmolLM135M,
        ["llama-2-7b"] = Llama2_7B,
    };

    /// <summary>Looks a shape up by name, listing the known ones when it is not found.</summary>
    public static ModelConfig Get(string name) => ByName.TryGetValue(name, out var c)
        ? c : throw new ArgumentException($"unknown model shape '{name}' (known: {string.Join(", ", ByName.Keys)})");
}
