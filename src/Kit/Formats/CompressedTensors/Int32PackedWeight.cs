using Kit.Quantization;
using static TorchSharp.torch;

namespace Kit.Formats.CompressedTensors;

/// <summary>
/// A pack-quantized Linear's weight as stored, before unpacking: the int32 words [out, ceil(in · b / 32)] of
/// <see cref="Int32Packing.PackRows"/> with the grids of <see cref="QuantizedWeight"/>. A loader that decodes the
/// words into its own layout skips the tensor of unpacked codes. Owns its tensors.
/// </summary>
/// <param name="Words">The packed codes, int32 [out, words], on the CPU; mapped from the file where it allows.</param>
/// <param name="Columns">Input features: values per row, the padding of each row's last word excluded.</param>
/// <param name="Scale">Scales [out, groups] (or [1, 1] per tensor), float32.</param>
/// <param name="ZeroPoint">Zero points of <paramref name="Scale"/>'s shape, int8 (zeros when symmetric).</param>
/// <param name="GIdx">The group of each input column, int32 [in].</param>
/// <param name="Args">The grid.</param>
public sealed record Int32PackedWeight(Tensor Words, long Columns, Tensor Scale, Tensor ZeroPoint, Tensor GIdx, QuantizationArgs Args) : IDisposable
{
    /// <summary>Frees the tensors.</summary>
    public void Dispose()
    {
        Words.Dispose();
        Scale.Dispose();
        ZeroPoint.Dispose();
        GIdx.Dispose();
    }
}
