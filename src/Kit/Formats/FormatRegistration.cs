using System.Runtime.CompilerServices;
using Kit.Calibration;
using Kit.Formats.CompressedTensors;
using Kit.Formats.Gguf;
using Kit.Formats.Sparse;
using Kit.Models;

namespace Kit.Formats;

/// <summary>
/// Puts the checkpoint formats this folder reads into <see cref="ModelFormats"/>, and the ones the layer-by-layer
/// pipeline writes into <see cref="CheckpointSinks"/>, as Kit's assembly loads.
/// </summary>
internal static class FormatRegistration
{
    // Compressed-tensors before 2:4: a pruned and quantized folder carries both marks and loads packed.
#pragma warning disable CA2255 // The registry must be filled before any load, without Models naming Formats.
    [ModuleInitializer]
    internal static void Register()
#pragma warning restore CA2255
    {
        ModelFormats.Register(new GgufModelFormat());
        ModelFormats.Register(new CompressedTensorsModelFormat());
        ModelFormats.Register(new Sparse24ModelFormat());
        CheckpointSinks.Register(SaveFormat.CompressedTensors, CompressedTensorsSink.For);
    }
}
