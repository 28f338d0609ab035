using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Kit.Inference.Kernels;

/// <summary>
/// Decodes rows of a CPU <see cref="PackedWeight"/> into float32 in the input column order: the tiles that
/// large batches multiply with a dense matmul, one tile at a time, so no full-size copy is ever held.
/// </summary>
public static unsafe class RowDequantizer
{
    /// <summary>
    /// Writes rows [<paramref name="rowStart"/>, <paramref name="rowStart"/> + rows) of Ŵ, each
    /// <see cref="PackedWeight.InFeatures"/> wide, into <paramref name="destination"/> (spread over the cores).
    /// </summary>
    public static void Rows(PackedWeight weight, int rowStart, int rows, Span<float> destination)
    {
        ArgumentNullException.ThrowIfNull(weight);
        if (rowStart < 0 || rows < 0 || rowStart + rows > weight.OutFeatures)
            throw new ArgumentOutOfRangeException(nameof(rows), $"rows [{rowStart}, {rowStart + rows}) lie outside [0, {weight.OutFeatures})");
        if (destination.Length != (long)rows * weight.InFeatures)
            throw new ArgumentException($"destination: expected {rows} × {weight.InFeatures} values, got {destination.Length}", nameof(destination));
        var view = weight.View();
        var layout = weight.Layout;
        var path = KernelPaths.Best;
        var format = weight.Format;
        fixed (float* dst = destination)
        {
            nint da = (nint)dst;
            int chunks = Math.Min(Environment.ProcessorCount * 4, Math.Max(1, rows / 8));
            Parallel.For(0, chunks, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount }, c =>
            {
                int start = (int)((long)rows * c / chunks), end = (int)((long)rows * (c + 1) / chunks);
                var packedRow = layout.ColumnOrder is null ? null : new float[layout.PaddedColumns];
                for (int r = start; r < end; r++)
                {
                    float* target = (float*)da + (long)r * layout.Columns;
                    if (packedRow is null)
                        Decode(view, format, rowStart + r, target, layout.Columns, path);
                    else
                        fixed (float* p = packedRow)
                        {
                            Decode(view, format, rowStart + r, p, layout.PaddedColumns, path);
                            var order = layout.ColumnOrder!;
                            for (int k = 0; k < order.Length; k++)
                                if (order[k] >= 0) target[order[k]] = p[k];
                        }
                }
            });
        }
    }

    // Writes the first `count` packed columns of row r (padding lies at the end when the order is the identity).
    static void Decode(in PackedView w, PackedFormat format, int r, float* target, int count, KernelPath path)
    {
        if (format == PackedFormat.Int4) Decode<Int4Decoder>(w, r, target, count, path);
        else Decode<Int8Decoder>(w, r, target, count, path);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void Decode<TDecoder>(in PackedView w, int r, float* target, int count, KernelPath path) where TDecoder : struct, IBlockDecoder
    {
        byte* row = w.Data + (long)r * w.RowBytes;
        for (int g = 0; g < w.Groups; g++)
        {
            float s = w.Scale[(long)r * w.Groups + g];
            int zero = w.ZeroCode(r, g);
            for (int block = w.GroupBlocks[g]; block < w.GroupBlocks[g + 1]; block++)
            {
                int at = block * PackedLayout.BlockColumns;
                if (path != KernelPath.Scalar && at + PackedLayout.BlockColumns <= count)
                {
                    // code − zero is exact in float32, so one multiplication rounds once, as (code − zero) · scale does.
                    TDecoder.Decode(row + (long)block * TDecoder.BlockBytes, Vector256<float>.One, Vector256.Create((float)-zero), out var w0, out var w1, out var w2, out var w3);
                    var scale = Vector256.Create(s);
                    Avx.Store(target + at, w0 * scale);
                    Avx.Store(target + at + 8, w1 * scale);
                    Avx.Store(target + at + 16, w2 * scale);
                    Avx.Store(target + at + 24, w3 * scale);
                    continue;
                }
                for (int c = at; c < Math.Min(at + PackedLayout.BlockColumns, count); c++)
                    target[c] = (TDecoder.Code(row, c) - zero) * s;
            }
        }
    }
}
