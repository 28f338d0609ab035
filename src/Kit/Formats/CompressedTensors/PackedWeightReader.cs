using Kit.Formats.CompressedTensors;
using Kit.Inference.Kernels;
using Kit.Models.Safetensors;

namespace Kit.Formats.CompressedTensors;

/// <summary>
/// Packs a compressed-tensors <c>pack-quantized</c> Linear for the CPU kernels straight from its stored int32
/// words: each row is decoded from the (mapped) file and written in <see cref="PackedWeight"/>'s layout in one
/// parallel pass, with no tensor of unpacked int8 codes and no managed copy in between. Loading TinyLlama-1.1B's
/// W4A16 weights spent most of its time in those intermediate copies.
/// </summary>
internal static unsafe class PackedWeightReader
{
    /// <summary>The packed weight of <paramref name="module"/>, on the CPU; equal to <see cref="PackedWeight.From"/> of <see cref="CompressedTensorsReader.Read"/>.</summary>
    public static PackedWeight Read(CompressedTensorsReader reader, string module)
    {
        using var stored = reader.ReadInt32Packed(module);
        int rows = checked((int)stored.Words.shape[0]), columns = checked((int)stored.Columns), words = checked((int)stored.Words.shape[1]);
        int bits = stored.Args.NumBits;
        nint data = (nint)TensorMemory.Address(stored.Words);
        return PackedWeight.FromRows(rows, columns, stored.Scale, stored.ZeroPoint, stored.GIdx, stored.Args,
            (r, codes) => Int32Packing.UnpackRow(new ReadOnlySpan<uint>((uint*)data + (long)r * words, words), bits, codes));
    }
}
