using Kit.Models.Safetensors;
using static TorchSharp.torch;

namespace Kit.Inference.Sparse;

/// <summary>
/// Expands rows of a float32 CPU <see cref="Sparse24Weight"/> into dense float32 rows in one pass, for the
/// prefill path: the tensor-op expansion (<see cref="Sparse24Weight.DenseRows"/>) makes several passes over
/// broadcast byte and bool tensors, which costs more than the matmul it feeds on a CPU.
/// </summary>
internal static unsafe class Sparse24RowDecoder
{
    /// <summary>Writes rows <paramref name="start"/> .. start + <paramref name="count"/> of W into <paramref name="dense"/> [count, in].</summary>
    public static void Rows(Sparse24Weight weight, int start, int count, Span<float> dense)
    {
        if (weight.Values.dtype != ScalarType.Float32 || weight.Device.type != TorchSharp.DeviceType.CPU)
            throw new ArgumentException($"Sparse24Weight.Values: decoding needs float32 values on the CPU, got {weight.Values.dtype} on {weight.Device}", nameof(weight));
        int columns = weight.InFeatures, stride = (int)weight.Metadata.shape[1];
        if (start < 0 || count < 0 || start + count > weight.OutFeatures || dense.Length < (long)count * columns)
            throw new ArgumentOutOfRangeException(nameof(count), $"rows {start}..{start + count} of {weight.OutFeatures} into {dense.Length} values");
        nint values = (nint)TensorMemory.Address(weight.Values), metadata = (nint)TensorMemory.Address(weight.Metadata);
        fixed (float* d = dense)
        {
            nint da = (nint)d;
            Parallel.For(0, count, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount }, i =>
            {
                int r = start + i;
                float* v = (float*)values + (long)r * (columns / 2);
                byte* m = (byte*)metadata + (long)r * stride;
                float* row = (float*)da + (long)i * columns;
                new Span<float>(row, columns).Clear();
                for (int g = 0; g < columns / 4; g++)
                {
                    int nibble = (m[g >> 1] >> ((g & 1) * 4)) & 15;
                    row[4 * g + (nibble & 3)] = v[2 * g];
                    row[4 * g + (nibble >> 2)] = v[2 * g + 1];
                }
            });
        }
    }
}
