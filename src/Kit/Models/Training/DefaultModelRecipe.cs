using System.Text.Json;
using System.Text.Json.Nodes;
using Kit.Models.Safetensors;
using Kit.Models.Tokenizers;
using static TorchSharp.torch;

namespace Kit.Models.Training;

/// <summary>
/// How Kit's embedded default model is made: a byte-level BPE tokenizer and a small Llama trained from
/// scratch on a text file (TinyStories by default), written as a Hugging Face model folder.
/// </summary>
public static class DefaultModelRecipe
{
    /// <summary>The architecture of the default model: 4 layers, width 128, grouped-query attention, tied embeddings.</summary>
    public static ModelConfig Architecture(int vocabSize) => new()
    {
        ModelType = "llama", HiddenSize = 128, IntermediateSize = 344, NumHiddenLayers = 4, NumAttentionHeads = 4,
        NumKeyValueHeads = 2, HeadDim = 32, VocabSize = vocabSize, MaxPositionEmbeddings = 512, RmsNormEps = 1e-5,
        RopeTheta = 10000, TieWordEmbeddings = true, BosTokenId = 1, EosTokenIds = new[] { 2 }, TorchDtype = "float32",
    };

    /// <summary>The tokenizer's vocabulary size (specials, 256 bytes, merges).</summary>
    public const int VocabSize = 1024;

    /// <summary>
    /// Trains the tokenizer and the model on <paramref name="textPath"/> and writes the folder
    /// <paramref name="outDir"/> atomically (built beside it, then moved into place).
    /// Returns the held-out cross-entropy.
    /// </summary>
    public static double Build(string textPath, string outDir, TrainingOptions options, IProgress<TrainingProgress>? progress = null,
        Action<string>? log = null)
    {
        if (!File.Exists(textPath)) throw new FileNotFoundException($"training text not found: {textPath}", textPath);
        string text = File.ReadAllText(textPath).Replace("\r\n", "\n");
        string staging = outDir.TrimEnd('/') + ".partial";
        if (Directory.Exists(staging)) Directory.Delete(staging, recursive: true);
        Directory.CreateDirectory(staging);

        log?.Invoke($"training a {VocabSize}-token byte-level BPE tokenizer on {text.Length:N0} characters");
        var (vocab, merges) = BpeTrainer.Train(text, VocabSize);
        WriteJson(Path.Combine(staging, "tokenizer.json"), BpeTrainer.ToTokenizerJson(vocab, merges));
        WriteJson(Path.Combine(staging, "tokenizer_config.json"), new JsonObject
        {
            ["tokenizer_class"] = "PreTrainedTokenizerFast", ["add_bos_token"] = true, ["add_eos_token"] = false,
            ["bos_token"] = BpeTrainer.SpecialTokens[1], ["eos_token"] = BpeTrainer.SpecialTokens[2],
            ["pad_token"] = BpeTrainer.SpecialTokens[0], ["model_max_length"] = 512,
        });
        var config = Architecture(vocab.Count);
        WriteJson(Path.Combine(staging, "config.json"), config.ToJson());
        WriteJson(Path.Combine(staging, "generation_config.json"), new JsonObject { ["bos_token_id"] = 1, ["eos_token_id"] = 2, ["pad_token_id"] = 0 });

        // Blank lines separate stories (and a story's paragraphs: the corpus does not mark which). Each
        // paragraph becomes BOS + text + EOS, so the model learns to finish what it starts.
        var tokenizer = TokenizerLoader.FromFolder(staging);
        var ids = new List<int>();
        foreach (var paragraph in text.Split("\n\n", StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            ids.AddRange(tokenizer.Encode(paragraph));
            ids.Add(2);
        }
        int split = (int)(ids.Count * 0.95);
        log?.Invoke($"{ids.Count:N0} tokens: {split:N0} for training, {ids.Count - split:N0} held out");

        using var model = new CausalLM(config);
        ModelTrainer.Initialize(model, options.Seed);
        double validation = ModelTrainer.Train(model, ids.Take(split).ToList(), ids.Skip(split).ToList(), options, progress);
        SafetensorsWriter.Write(Path.Combine(staging, "model.safetensors"),
            model.named_parameters().Where(p => p.name != "lm_head.weight").Select(p => (p.name, (Tensor)p.parameter)),
            new Dictionary<string, string> { ["format"] = "pt" });

        if (Directory.Exists(outDir)) Directory.Delete(outDir, recursive: true);
        Directory.Move(staging, outDir);
        return validation;
    }

    static void WriteJson(string path, JsonNode node) =>
        File.WriteAllText(path, node.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
}
