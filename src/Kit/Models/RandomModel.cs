using System.Text.Json;
using Kit.Models.Safetensors;
using Kit.Runtime;
using static TorchSharp.torch;

namespace Kit.Models;

/// <summary>
/// Writes a model folder with random weights for a given architecture (for benchmarks and memory tests
/// where only shapes matter), one shard per layer so that memory stays at one layer while writing.
/// The tokenizer files are copied from another model (the default model unless told otherwise).
/// </summary>
public static class RandomModel
{
    /// <summary>Writes <paramref name="config"/> with N(0, 0.02) weights to <paramref name="folder"/>.</summary>
    public static void Write(ModelConfig config, string folder, long seed = 0, ScalarType dtype = ScalarType.Float32, string? tokenizerFrom = null)
    {
        tokenizerFrom ??= DefaultModel.Folder;
        string staging = folder.TrimEnd('/') + ".partial";
        if (Directory.Exists(staging)) Directory.Delete(staging, true);
        Directory.CreateDirectory(staging);
        var generator = new Generator((ulong)seed);
        using var shell = new CausalLM(config, ScalarType.Float32, device("meta"));
        var groups = shell.named_parameters()
            .Where(p => !(config.TieWordEmbeddings && p.name == "lm_head.weight"))
            .Select(p => (p.name, Shape: p.parameter.shape))
            .GroupBy(p => p.name.StartsWith("model.layers.") ? int.Parse(p.name.Split('.')[2]) : config.NumHiddenLayers)
            .OrderBy(g => g.Key).ToList();
        var weightMap = new SortedDictionary<string, string>(StringComparer.Ordinal);
        for (int k = 0; k < groups.Count; k++)
        {
            using var scope = NewDisposeScope();
            string shard = $"model-{k + 1:D5}-of-{groups.Count:D5}.safetensors";
            var tensors = groups[k].Select(p => (p.name, p.name.EndsWith("norm.weight")
                ? ones(p.Shape, dtype)
                : ScalarArithmetic.Normal(0, 0.02, p.Shape, ScalarType.Float32, generator: generator).to_type(dtype))).ToList();
            SafetensorsWriter.Write(Path.Combine(staging, shard), tensors);
            foreach (var (name, _) in tensors) weightMap[name] = shard;
        }
        File.WriteAllText(Path.Combine(staging, "model.safetensors.index.json"),
            JsonSerializer.Serialize(new { metadata = new { total_size = Directory.GetFiles(staging).Sum(f => new FileInfo(f).Length) }, weight_map = weightMap }));
        var json = (config with { TorchDtype = dtype == ScalarType.BFloat16 ? "bfloat16" : dtype == ScalarType.Float16 ? "float16" : "float32" }).ToJson();
        File.WriteAllText(Path.Combine(staging, "config.json"), json.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        foreach (var name in new[] { "tokenizer.json", "tokenizer.model", "tokenizer_config.json", "special_tokens_map.json" })
            if (File.Exists(Path.Combine(tokenizerFrom, name))) File.Copy(Path.Combine(tokenizerFrom, name), Path.Combine(staging, name));
        if (Directory.Exists(folder)) Directory.Delete(folder, true);
        Directory.Move(staging, folder);
    }
}
