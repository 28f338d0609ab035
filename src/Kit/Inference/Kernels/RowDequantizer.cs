using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Kit.Inference.Kernels;

/// <summary>
/// Decodes rows of a CPU <see cref="PackedWeight"/> into float32 or bfloat16 in the input column order: the tiles
/// that large batches multiply with a dense matmul, one tile at a time, so no full-size copy is ever held.
/// </summary>
public static unsafe class RowDequantizer
{
    /// <summary>
    /// Writes rows [<paramref name="rowStart"/>, <paramref name="rowStart"/> + rows) of Ŵ, each
    /// <see cref="PackedWeight.InFeatures"/> wide, into <paramref name="destination"/> (spread over the cores).
    /// </summary>
    public static void Rows(PackedWeight weight, int rowStart, int rows, Span<float> destination)
    {
        Check(weight, rowStart, rows, destination.Length);
        fixed (float* dst = destination) Rows<Float32Values, float>(weight, rowStart, rows, dst);
    }

    /// <summary>
    /// <see cref="Rows(PackedWeight, int, int, Span{float})"/> with every value rounded to bfloat16 (the bit patterns,
    /// nearest even, as libtorch rounds): each weight (code − zero) · scale is computed in float32 first.
    /// </summary>
    public static void RowsBFloat16(PackedWeight weight, int rowStart, int rows, Span<ushort> destination)
    {
        Check(weight, rowStart, rows, destination.Length);
        fixed (ushort* dst = destination) Rows<BFloat16Values, ushort>(weight, rowStart, rows, dst);
    }

    static void Check(PackedWeight weight, int rowStart, int rows, int destinationLength)
    {
        ArgumentNullException.ThrowIfNull(weight);
        if (rowStart < 0 || rows < 0 || rowStart + rows > weight.OutFeatures)
            throw new ArgumentOutOfRangeException(nameof(rows), $"rows [{rowStart}, {rowStart + rows}) lie outside [0, {weight.OutFeatures})");
        if (destinationLength != (long)rows * weight.InFeatures)
            throw new ArgumentException($"destination: expected {rows} × {weight.InFeatures} values, got {destinationLength}", "destination");
    }

    static void Rows<TValues, T>(PackedWeight weight, int rowStart, int rows, T* destination)
        where TValues : struct, IDecodedValues<T> where T : unmanaged
    {
        var view = weight.View();
        var layout = weight.Layout;
        var path = KernelPaths.Best;
        var format = weight.Format;
        nint da = (nint)destination;
        int chunks = Math.Min(Environment.ProcessorCount * 4, Math.Max(1, rows / 8));
        Parallel.For(0, chunks, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount }, c =>
        {
            int start = (int)((long)rows * c / chunks), end = (int)((long)rows * (c + 1) / chunks);
            var packedRow = layout.ColumnOrder is null ? null : new T[layout.PaddedColumns];
            for (int r = start; r < end; r++)
            {
                T* target = (T*)da + (long)r * layout.Columns;
                if (packedRow is null)
                    Decode<TValues, T>(view, format, rowStart + r, target, layout.Columns, path);
                else
                    fixed (T* p = packedRow)
                    {
                        Decode<TValues, T>(view, format, rowStart + r, p, layout.PaddedColumns, path);
                        var order = layout.ColumnOrder!;
                        for (int k = 0; k < order.Length; k++)
                            if (order[k] >= 0) target[order[k]] = p[k];
                    }
            }
        });
    }

    // Writes the first `count` packed columns of row r (padding lies at the end when the order is the identity).
    static void Decode<TValues, T>(in PackedView w, PackedFormat format, int r, T* target, int count, KernelPath path)
        where TValues : struct, IDecodedValues<T> where T : unmanaged
    {
        if (format == PackedFormat.Int4) Decode<Int4Decoder, TValues, T>(w, r, target, count, path);
        else Decode<Int8Decoder, TValues, T>(w, r, target, count, path);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void Decode<TDecoder, TValues, T>(in PackedView w, int r, T* target, int count, KernelPath path)
        where TDecoder : struct, IBlockDecoder where TValues : struct, IDecodedValues<T> where T : unmanaged
    {
        byte* row = w.Data + (long)r * w.RowBytes;
        for (int g = 0; g < w.Groups; g++)
        {
            float s = w.Scale[(long)r * w.Groups + g];
            int zero = w.ZeroCode(r, g);
            for (int block = w.GroupBlocks[g]; block < w.GroupBlocks[g + 1]; block++)
            {
                int at = block * PackedLayout.BlockColumns;
                if (path == KernelPath.Avx512 && at + PackedLayout.BlockColumns <= count)
                {
                    TDecoder.Decode(row + (long)block * TDecoder.BlockBytes, Vector512<float>.One, Vector512.Create((float)-zero), out var low, out var high);
                    var scale = Vector512.Create(s);
                    TValues.Store(low * scale, target + at);
                    TValues.Store(high * scale, target + at + 16);
                    continue;
                }
                if (path != KernelPath.Scalar && at + PackedLayout.BlockColumns <= count)
                {
                    // code − zero is exact in float32, so one multiplication rounds once, as (code − zero) · scale does.
                    TDecoder.Decode(row + (long)block * TDecoder.BlockBytes, Vector256<float>.One, Vector256.Create((float)-zero), out var w0, out var w1, out var w2, out var w3);
                    var scale = Vector256.Create(s);
                    TValues.Store(w0 * scale, target + at);
                    TValues.Store(w1 * scale, target + at + 8);
                    TValues.Store(w2 * scale, target + at + 16);
                    TValues.Store(w3 * scale, target + at + 24);
                    continue;
                }
                for (int c = at; c < Math.Min(at + PackedLayout.BlockColumns, count); c++)
                    target[c] = TValues.From((TDecoder.Code(row, c) - zero) * s);
            }
        }
    }
}

/// <summary>How decoded float32 weights are written: as they are, or rounded to a narrower type.</summary>
internal unsafe interface IDecodedValues<T> where T : unmanaged
{
    /// <summary>Writes eight values at <paramref name="at"/>.</summary>
    static abstract void Store(Vector256<float> values, T* at);

    /// <summary>Writes sixteen values at <paramref name="at"/> (AVX-512).</summary>
    static abstract void Store(Vector512<float> values, T* at);

    /// <summary>One value.</summary>
    static abstract T From(float value);
}

internal readonly unsafe struct Float32Values : IDecodedValues<float>
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(Vector256<float> values, float* at) => Avx.Store(at, values);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(Vector512<float> values, float* at) => Avx512F.Store(at, values);

    public static float From(float value) => value;
}

/// <summary>bfloat16 bit patterns, rounded to nearest even (weights are finite, so NaN needs no case of its own).</summary>
internal readonly unsafe struct BFloat16Values : IDecodedValues<ushort>
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(Vector256<float> values, ushort* at)
    {
        var bits = values.AsUInt32();
        var rounded = (bits + Vector256.Create(0x7FFFu) + ((bits >> 16) & Vector256<uint>.One)) >> 16;
        Vector128.Narrow(rounded.GetLower(), rounded.GetUpper()).Store(at);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(Vector512<float> values, ushort* at)
    {
        var bits = values.AsUInt32();
        var rounded = (bits + Vector512.Create(0x7FFFu) + ((bits >> 16) & Vector512<uint>.One)) >> 16;
        Avx512F.ConvertToVector256UInt16(rounded).Store(at);
    }

    public static ushort From(float value)
    {
        uint bits = BitConverter.SingleToUInt32Bits(value);
        return (ushort)((bits + 0x7FFFu + ((bits >> 16) & 1)) >> 16);
    }
}
