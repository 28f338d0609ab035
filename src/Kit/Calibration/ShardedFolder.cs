using System.Text.Json;
using Kit.Models.Safetensors;
using static TorchSharp.torch;

namespace Kit.Calibration;

/// <summary>
/// The folder a layer-by-layer run writes: one safetensors shard per decoder layer and one for the rest, the index,
/// the model's other files, and the move that makes it appear under its name only when complete.
/// </summary>
internal static class ShardedFolder
{
    /// <summary>The name of shard <paramref name="k"/> of <paramref name="n"/>, as Hugging Face names them.</summary>
    public static string ShardName(int k, int n) => $"model-{k:D5}-of-{n:D5}.safetensors";

    /// <summary>
    /// Writes <paramref name="tensors"/>, each in <paramref name="source"/>'s dtype for that name (a bfloat16 model stays
    /// bfloat16 on disk), and <paramref name="packed"/> as they are, into <paramref name="shard"/>, and records each
    /// name's shard in <paramref name="weightMap"/>.
    /// </summary>
    public static void WriteShard(string folder, string shard, IEnumerable<(string Name, Tensor Tensor)> tensors, SafetensorsCheckpoint source,
        IDictionary<string, string> weightMap, IReadOnlyList<SafetensorsEntry>? packed = null)
    {
        using var scope = NewDisposeScope();
        // A tensor the source lacks (the head a rotation unties from the embeddings) is stored like the embeddings.
        var stored = tensors.Select(t => new SafetensorsEntry(t.Name, t.Tensor.to_type(
                source.Info(source.Contains(t.Name) ? t.Name : "model.embed_tokens.weight").DType.ToScalarType())))
            .Concat(packed ?? Array.Empty<SafetensorsEntry>()).OrderBy(e => e.Name, StringComparer.Ordinal).ToList();
        SafetensorsWriter.Write(Path.Combine(folder, shard), stored, new Dictionary<string, string> { ["format"] = "pt" });
        foreach (var entry in stored) weightMap[entry.Name] = shard;
    }

    /// <summary>Writes model.safetensors.index.json for the shards in <paramref name="folder"/>.</summary>
    public static void WriteIndex(string folder, IDictionary<string, string> weightMap)
    {
        long total = Directory.GetFiles(folder, "*.safetensors").Sum(f => new FileInfo(f).Length);
        var index = new { metadata = new { total_size = total }, weight_map = weightMap };
        File.WriteAllText(Path.Combine(folder, "model.safetensors.index.json"), JsonSerializer.Serialize(index, new JsonSerializerOptions { WriteIndented = true }));
    }

    /// <summary>Copies everything but the weights and Kit's report: config, tokenizer, generation settings, licence.</summary>
    public static void CopyModelFiles(string from, string to)
    {
        foreach (var file in Directory.GetFiles(from))
        {
            string name = Path.GetFileName(file);
            if (name.EndsWith(".safetensors", StringComparison.Ordinal) || name == "model.safetensors.index.json" || name == CompressionReportFile.FileName) continue;
            File.Copy(file, Path.Combine(to, name));
        }
    }

    /// <summary>Sets <c>tie_word_embeddings</c> to false in the config.json of <paramref name="folder"/>: the folder has a head of its own.</summary>
    public static void Untie(string folder)
    {
        string path = Path.Combine(folder, "config.json");
        var config = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        config["tie_word_embeddings"] = false;
        File.WriteAllText(path, config.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
    }

    /// <summary>Moves the complete <paramref name="staging"/> folder to <paramref name="outputFolder"/>; an old one there is removed only after that.</summary>
    public static void Publish(string staging, string outputFolder)
    {
        string? old = null;
        if (Directory.Exists(outputFolder))
        {
            old = outputFolder.TrimEnd('/', '\\') + ".old-" + Guid.NewGuid().ToString("N")[..8];
            Directory.Move(outputFolder, old);
        }
        Directory.Move(staging, outputFolder);
        if (old is not null) Directory.Delete(old, recursive: true);
    }
}
