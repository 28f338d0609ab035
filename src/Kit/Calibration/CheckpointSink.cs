using Kit.Models;
using Kit.Models.Safetensors;
using Kit.Quantization;

namespace Kit.Calibration;

/// <summary>
/// What the layer-by-layer pipeline hands a checkpoint format as it finishes: each layer's quantized Linears (codes
/// and grids) for the shard it writes, and the staged folder at the end. The pipeline writes every dense tensor itself,
/// in the checkpoint's dtype; a sink adds its format's tensors and settings. Without one the folder is dense.
/// </summary>
public interface ICheckpointSink
{
    /// <summary>The tensors that stand for <paramref name="quantized"/> (by module name) in a shard, instead of their dense weights.</summary>
    IReadOnlyList<SafetensorsEntry> LayerTensors(IReadOnlyDictionary<string, QuantizedWeight> quantized);

    /// <summary>Completes the staged folder (for example its config.json) once every shard is written.</summary>
    void Finish(string stagingFolder);
}

/// <summary>
/// Makes the sink of one run, checking before any work that the format can hold <paramref name="recipe"/> on a model
/// of <paramref name="config"/> (throwing <see cref="ArgumentException"/> when not); null when the format writes this
/// recipe's output dense (a recipe that quantizes nothing).
/// </summary>
public delegate ICheckpointSink? CheckpointSinkFactory(ModelConfig config, CompressionRecipe recipe);

/// <summary>
/// The sinks of the folder formats the pipeline writes, by <see cref="SaveFormat"/>; Formats registers them, so that
/// the pipeline depends on this contract and not on the writers. <see cref="SaveFormat.Dense"/> needs none.
/// </summary>
public static class CheckpointSinks
{
    static readonly object Gate = new();
    static readonly Dictionary<SaveFormat, CheckpointSinkFactory> factories = new();

    /// <summary>Registers the sink factory of <paramref name="format"/>; one per format.</summary>
    /// <exception cref="ArgumentException">The format has a factory already.</exception>
    public static void Register(SaveFormat format, CheckpointSinkFactory factory)
    {
        ArgumentNullException.ThrowIfNull(factory);
        lock (Gate)
            if (!factories.TryAdd(format, factory))
                throw new ArgumentException($"a checkpoint sink for {format} is registered already", nameof(format));
    }

    /// <summary>The sink of a run writing <paramref name="format"/>, or null for a dense folder.</summary>
    /// <exception cref="NotSupportedException">No sink is registered for a format that needs one.</exception>
    public static ICheckpointSink? Create(SaveFormat format, ModelConfig config, CompressionRecipe recipe)
    {
        if (format == SaveFormat.Dense) return null;
        CheckpointSinkFactory? factory;
        lock (Gate) factories.TryGetValue(format, out factory);
        return factory is null ? throw new NotSupportedException($"no checkpoint sink is registered for {format}") : factory(config, recipe);
    }
}
