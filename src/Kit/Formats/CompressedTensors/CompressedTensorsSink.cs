using Kit.Calibration;
using Kit.Models;
using Kit.Models.Safetensors;
using Kit.Quantization;

namespace Kit.Formats.CompressedTensors;

/// <summary>
/// The compressed-tensors side of a layer-by-layer run: each shard gets its quantized Linears' packed tensors
/// (<see cref="CompressedTensorsWriter"/>, scales in the checkpoint's dtype), and config.json its
/// <c>quantization_config</c> once every shard is written.
/// </summary>
internal sealed class CompressedTensorsSink : ICheckpointSink
{
    readonly CompressedTensorsWriter writer;

    CompressedTensorsSink(CompressedTensorsWriter writer) => this.writer = writer;

    /// <summary>
    /// The sink for <paramref name="recipe"/> on <paramref name="config"/>, or null when the recipe quantizes nothing
    /// (a pruned-only model is saved dense). Refuses, before any work, a scheme vLLM would not serve and groups that do
    /// not tile every Linear's input width.
    /// </summary>
    /// <exception cref="ArgumentException">The recipe cannot be written as compressed-tensors for this model.</exception>
    public static CompressedTensorsSink? For(ModelConfig config, CompressionRecipe recipe)
    {
        if (recipe.Weights is null) return null;
        var writer = new CompressedTensorsWriter(recipe, config.CheckpointDType);
        CheckGroupsTile(config, recipe.Weights);
        return new CompressedTensorsSink(writer);
    }

    public IReadOnlyList<SafetensorsEntry> LayerTensors(IReadOnlyDictionary<string, QuantizedWeight> quantized) => writer.LayerTensors(quantized);

    public void Finish(string stagingFolder) =>
        CompressedTensorsWriter.WriteQuantizationConfig(Path.Combine(stagingFolder, "config.json"), writer.Config.ToJson());

    // compressed-tensors (and vLLM's kernels) need every group whole; Kit's dense output also takes a shorter last group.
    static void CheckGroupsTile(ModelConfig config, QuantizationArgs args)
    {
        if (args.Strategy != QuantizationStrategy.Group) return;
        int size = args.GroupSize!.Value;
        foreach (var (what, columns) in new[] { ("hidden_size", config.HiddenSize), ("intermediate_size", config.IntermediateSize),
                     ("num_attention_heads × head_dim", config.NumAttentionHeads * config.HeadDim) })
            if (columns % size != 0)
                throw new ArgumentException($"group size {size} does not divide {what} ({columns}), which compressed-tensors requires; " +
                    "choose a group size that does, per-channel scales, or the dense output format (--format dense)");
    }
}
