using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Kit.Models;
using Kit.Models.Safetensors;
using static TorchSharp.torch;

namespace Kit.Formats.Gguf;

/// <summary>
/// Turns a llama.cpp GGUF file of the "llama" architecture into a Hugging Face model folder that
/// <see cref="LanguageModel.Load"/> opens: config.json from the llama.* metadata, float32 safetensors with
/// Hugging Face names and q_proj/k_proj rows un-permuted, and a tokenizer.model ("llama" tokenizers) or
/// tokenizer.json ("gpt2" tokenizers) with tokenizer_config.json. Going through a folder keeps one loading
/// path for every model.
/// </summary>
public static class GgufImporter
{
    /// <summary>Whether <paramref name="path"/> names an existing file that starts with the GGUF magic.</summary>
    public static bool IsGgufFile(string path)
    {
        if (!File.Exists(path)) return false;
        Span<byte> magic = stackalloc byte[4];
        using var stream = File.OpenRead(path);
        return stream.Read(magic) == 4 && magic.SequenceEqual("GGUF"u8);
    }

    /// <summary>
    /// Loads a GGUF file as a <see cref="LanguageModel"/>: converts it once into a folder under the temporary
    /// directory (keyed by the file's path, size and time, and reused while they stay the same) and loads that.
    /// </summary>
    public static LanguageModel Load(string ggufPath, ModelLoadOptions? options = null)
    {
        var path = Path.GetFullPath(ggufPath);
        if (!File.Exists(path)) throw new FileNotFoundException($"GGUF file not found: {path}", path);
        var info = new FileInfo(path);
        var key = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes($"{path}|{info.Length}|{info.LastWriteTimeUtc.Ticks}")))[..16];
        var folder = Path.Combine(Path.GetTempPath(), "kit-gguf", $"{Path.GetFileNameWithoutExtension(path)}-{key.ToLowerInvariant()}");
        var config = Path.Combine(folder, "config.json");
        if (!File.Exists(config))
        {
            // Another process may finish the same conversion first; its folder is as good as ours.
            try { ToFolder(path, folder); }
            catch (IOException) when (File.Exists(config)) { }
        }
        var lm = LanguageModel.Load(folder, options);
        return new LanguageModel(lm.Model, lm.Tokenizer, lm.Folder, ggufPath);
    }

    /// <summary>
    /// Writes the model in <paramref name="ggufPath"/> as a Hugging Face folder. The folder is assembled beside
    /// <paramref name="folder"/> and moved into place when complete.
    /// </summary>
    /// <exception cref="IOException"><paramref name="folder"/> exists and is not empty.</exception>
    /// <exception cref="InvalidDataException">The file is not a GGUF file or a field is wrong; the message names both.</exception>
    /// <exception cref="NotSupportedException">An architecture, tensor type, tensor or tokenizer Kit does not read.</exception>
    public static void ToFolder(string ggufPath, string folder)
    {
        folder = Path.GetFullPath(folder);
        if (Directory.Exists(folder) && Directory.EnumerateFileSystemEntries(folder).Any())
            throw new IOException($"{folder} exists and is not empty; import into a new folder");
        var file = GgufFile.Open(ggufPath);
        var config = ReadConfig(file);
        var staging = $"{folder.TrimEnd('/')}.partial-{Guid.NewGuid():N}";
        Directory.CreateDirectory(staging);
        try
        {
            WriteWeights(file, config, staging);
            GgufTokenizerImport.Write(file, staging);
            var indented = new JsonSerializerOptions { WriteIndented = true };
            File.WriteAllText(Path.Combine(staging, "config.json"), config.ToJson().ToJsonString(indented));
            if (Directory.Exists(folder)) Directory.Delete(folder);
            Directory.CreateDirectory(Path.GetDirectoryName(folder)!);
            Directory.Move(staging, folder);
        }
        catch
        {
            if (Directory.Exists(staging)) Directory.Delete(staging, true);
            throw;
        }
    }

    /// <summary>The architecture a "llama" GGUF file describes.</summary>
    public static ModelConfig ReadConfig(GgufFile file)
    {
        var arch = file.Require("general.architecture").AsString("general.architecture");
        if (arch != "llama")
            throw new NotSupportedException($"{file.Path}: general.architecture '{arch}' is not imported; Kit reads llama.cpp's \"llama\" architecture");
        if (file.Contains("rope_freqs.weight"))
            throw new NotSupportedException($"{file.Path}: tensor 'rope_freqs.weight' (Llama 3 rope scaling) is not imported");
        int? Int(string key) => file.Get(key) is { } v ? checked((int)v.AsInteger(key)) : null;
        int Required(string key) => Int(key) ?? throw new InvalidDataException($"{file.Path}: metadata key '{key}' is missing");
        // float32 metadata such as 1e-5 reads back as 9.99999974e-06; its shortest float spelling is the value meant.
        double? Num(string key) => file.Get(key) is { } n
            ? n.Value is float f ? double.Parse(f.ToString("R", CultureInfo.InvariantCulture), CultureInfo.InvariantCulture) : n.AsNumber(key)
            : null;

        int hidden = Required("llama.embedding_length");
        int heads = Required("llama.attention.head_count");
        int headDim = Int("llama.attention.key_length") ?? Int("llama.rope.dimension_count") ?? hidden / heads;
        if (Int("llama.rope.dimension_count") is int rot && rot != headDim)
            throw new NotSupportedException($"{file.Path}: llama.rope.dimension_count {rot} differs from the head size {headDim}; Kit rotates whole heads");
        if (Int("llama.attention.value_length") is int v && v != headDim)
            throw new NotSupportedException($"{file.Path}: llama.attention.value_length {v} differs from key_length {headDim}");
        var embedding = file.Tensor(GgufNames.TokenEmbedding);
        int vocab = Int("llama.vocab_size") ?? (file.Get("tokenizer.ggml.tokens")?.AsStrings("tokenizer.ggml.tokens").Count) ?? (int)embedding.Shape[0];

        RopeScaling? scaling = null;
        var scalingType = file.Get("llama.rope.scaling.type")?.AsString("llama.rope.scaling.type") ?? "none";
        if (scalingType == "linear")
            scaling = new RopeScaling("linear", Num("llama.rope.scaling.factor") ?? throw new InvalidDataException($"{file.Path}: metadata key 'llama.rope.scaling.factor' is missing"));
        else if (scalingType != "none")
            throw new NotSupportedException($"{file.Path}: llama.rope.scaling.type '{scalingType}' is not imported (none and linear are)");

        var bos = Int("tokenizer.ggml.bos_token_id");
        var eos = Int("tokenizer.ggml.eos_token_id");
        var json = new JsonObject
        {
            ["model_type"] = "llama",
            ["hidden_size"] = hidden,
            ["intermediate_size"] = Required("llama.feed_forward_length"),
            ["num_hidden_layers"] = Required("llama.block_count"),
            ["num_attention_heads"] = heads,
            ["num_key_value_heads"] = Int("llama.attention.head_count_kv") ?? heads,
            ["head_dim"] = headDim,
            ["vocab_size"] = vocab,
            ["max_position_embeddings"] = Int("llama.context_length") ?? 2048,
            ["rms_norm_eps"] = Num("llama.attention.layer_norm_rms_epsilon") ?? throw new InvalidDataException($"{file.Path}: metadata key 'llama.attention.layer_norm_rms_epsilon' is missing"),
            ["rope_theta"] = Num("llama.rope.freq_base") ?? 10000,
            ["tie_word_embeddings"] = !file.Contains(GgufNames.Output),
            ["torch_dtype"] = "float32",
        };
        if (bos is int b) json["bos_token_id"] = b;
        if (eos is int e) json["eos_token_id"] = e;
        return ModelConfig.FromJson(json, file.Path) with { RopeScaling = scaling };
    }

    /// <summary>One safetensors shard per layer (and one for the rest), so that memory holds one layer at a time.</summary>
    static void WriteWeights(GgufFile file, ModelConfig config, string folder)
    {
        var expected = GgufNames.All(config).ToDictionary(n => n.Gguf, n => n.Hf);
        foreach (var t in file.Tensors)
            if (!expected.ContainsKey(t.Name))
                throw new NotSupportedException($"{file.Path}: tensor '{t.Name}' is not one of a Llama model's weights that Kit imports");
        foreach (var name in expected.Keys)
            if (!file.Contains(name)) throw new InvalidDataException($"{file.Path}: tensor '{name}' is missing");

        var groups = expected.GroupBy(n => GgufNames.LayerOf(n.Value) ?? config.NumHiddenLayers).OrderBy(g => g.Key).ToList();
        var weightMap = new SortedDictionary<string, string>(StringComparer.Ordinal);
        for (int k = 0; k < groups.Count; k++)
        {
            using var scope = NewDisposeScope();
            string shard = $"model-{k + 1:D5}-of-{groups.Count:D5}.safetensors";
            var tensors = new List<(string, Tensor)>();
            foreach (var (gguf, hf) in groups[k])
            {
                var values = file.Load(gguf);
                if (GgufNames.PermutationHeads(hf, config) is int heads) values = LlamaQkPermutation.Unpermute(values, heads);
                tensors.Add((hf, values));
            }
            SafetensorsWriter.Write(Path.Combine(folder, shard), tensors);
            foreach (var (name, _) in tensors) weightMap[name] = shard;
        }
        File.WriteAllText(Path.Combine(folder, "model.safetensors.index.json"), JsonSerializer.Serialize(new
        {
            metadata = new { total_size = Directory.GetFiles(folder, "*.safetensors").Sum(f => new FileInfo(f).Length) },
            weight_map = weightMap,
        }));
    }
}
