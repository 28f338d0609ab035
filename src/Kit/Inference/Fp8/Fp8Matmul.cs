using Kit.Models.Safetensors;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Kit.Inference.Kernels;

namespace Kit.Inference.Fp8;

/// <summary>
/// y [batch, out] = x [batch, in] · (scale ⊙ W)ᵀ for FP8 E4M3 weights held as their bit patterns, decoded in
/// registers: E4M3 bits s.eeee.mmm placed at float32's sign and top exponent/mantissa bits
/// (s &lt;&lt; 31 | eeee.mmm &lt;&lt; 20) are the value · 2^−120 for normals and subnormals alike, so one
/// multiplication by 2^120 finishes the decode. Output rows are split over the cores.
/// </summary>
internal static unsafe class Fp8Matmul
{
    const float Two120 = 1.329228e36f;                 // 2^120

    /// <summary>
    /// Computes y [batch, rows] from <paramref name="bits"/> [rows, columns] (uint8 E4M3 patterns, row-major), one
    /// scale per row, and x [batch, columns], with the widest instruction set <paramref name="path"/> allows.
    /// </summary>
    public static void Multiply(ReadOnlySpan<byte> bits, ReadOnlySpan<float> rowScales, int rows, int columns,
        ReadOnlySpan<float> x, int batch, Span<float> y, KernelPath path)
    {
        if (bits.Length != (long)rows * columns || rowScales.Length != rows || x.Length != (long)batch * columns || y.Length != (long)batch * rows)
            throw new ArgumentException($"Fp8Matmul: spans do not match [{rows}, {columns}] weights and {batch} rows of x");
        path = KernelPaths.Clamp(path);
        fixed (byte* b = bits)
        fixed (float* s = rowScales, xp = x, yp = y)
        {
            nint ba = (nint)b, sa = (nint)s, xa = (nint)xp, ya = (nint)yp;
            RowChunks.For(rows, (long)rows * columns * batch, (start, end) =>
            {
                for (int r = start; r < end; r++)
                    for (int t = 0; t < batch; t += 4)
                        Row((byte*)ba + (long)r * columns, columns, (float*)xa + (long)t * columns, Math.Min(4, batch - t),
                            (float*)ya + (long)t * rows + r, rows, ((float*)sa)[r], path);
            });
        }
    }

    /// <summary>
    /// Writes rows [<paramref name="rowStart"/>, <paramref name="rowStart"/> + <paramref name="rows"/>) of scale ⊙ W
    /// in float32 into <paramref name="destination"/> [rows, columns], spread over the cores: the value of each code
    /// times its row's scale, rounded once, as the tensor-op dequantization computes it.
    /// </summary>
    public static void DecodeRows(ReadOnlySpan<byte> bits, ReadOnlySpan<float> rowScales, int columns, int rowStart, int rows, Span<float> destination, KernelPath path)
    {
        if (rowStart < 0 || rows < 0 || (long)(rowStart + rows) * columns > bits.Length || rowStart + rows > rowScales.Length || destination.Length != (long)rows * columns)
            throw new ArgumentException($"Fp8Matmul.DecodeRows: rows [{rowStart}, {rowStart + rows}) of {columns} columns do not fit the spans");
        path = KernelPaths.Clamp(path);
        fixed (byte* b = bits)
        fixed (float* s = rowScales, d = destination)
        {
            nint ba = (nint)b, sa = (nint)s, da = (nint)d;
            RowChunks.For(rows, (long)rows * columns, (start, end) =>
            {
                for (int r = start; r < end; r++)
                    DecodeRow((byte*)ba + (long)(rowStart + r) * columns, columns, ((float*)sa)[rowStart + r], (float*)da + (long)r * columns, path);
            });
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void DecodeRow(byte* w, int columns, float scale, float* target, KernelPath path)
    {
        int k = 0;
        if (path != KernelPath.Scalar)
        {
            // (value · 2^−120) · (2^120 · scale) would round differently from value · scale: decode first, then scale.
            var two120 = Vector256.Create(Two120);
            var s = Vector256.Create(scale);
            for (; k + 8 <= columns; k += 8)
            {
                var codes = Avx2.ConvertToVector256Int32(w + k);
                var value = ((codes & Vector256.Create(0x80)) << 24 | (codes & Vector256.Create(0x7F)) << 20).AsSingle() * two120;
                Avx.Store(target + k, value * s);
            }
        }
        for (; k < columns; k++) target[k] = Float8E4M3.Values[w[k]] * scale;
    }

    // Up to four activation rows share each decoded vector of weights.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void Row(byte* w, int columns, float* x, int tile, float* y, int yStride, float scale, KernelPath path)
    {
        Span<float> sums = stackalloc float[4];
        int k = 0;
        if (path == KernelPath.Avx512)
        {
            Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default;
            for (; k + 16 <= columns; k += 16)
            {
                var codes = Avx512F.ConvertToVector512Int32(Vector128.Load(w + k));
                var wv = ((codes & Vector512.Create(0x80)) << 24 | (codes & Vector512.Create(0x7F)) << 20).AsSingle() * Vector512.Create(Two120);
                a0 = Avx512F.FusedMultiplyAdd(wv, Vector512.Load(x + k), a0);
                if (tile > 1) a1 = Avx512F.FusedMultiplyAdd(wv, Vector512.Load(x + columns + k), a1);
                if (tile > 2) a2 = Avx512F.FusedMultiplyAdd(wv, Vector512.Load(x + 2L * columns + k), a2);
                if (tile > 3) a3 = Avx512F.FusedMultiplyAdd(wv, Vector512.Load(x + 3L * columns + k), a3);
            }
            (sums[0], sums[1], sums[2], sums[3]) = (Vector512.Sum(a0), Vector512.Sum(a1), Vector512.Sum(a2), Vector512.Sum(a3));
        }
        else if (path == KernelPath.Avx2)
        {
            Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default;
            for (; k + 8 <= columns; k += 8)
            {
                var codes = Avx2.ConvertToVector256Int32(w + k);
                var wv = ((codes & Vector256.Create(0x80)) << 24 | (codes & Vector256.Create(0x7F)) << 20).AsSingle() * Vector256.Create(Two120);
                a0 = Fma.MultiplyAdd(wv, Avx.LoadVector256(x + k), a0);
                if (tile > 1) a1 = Fma.MultiplyAdd(wv, Avx.LoadVector256(x + columns + k), a1);
                if (tile > 2) a2 = Fma.MultiplyAdd(wv, Avx.LoadVector256(x + 2L * columns + k), a2);
                if (tile > 3) a3 = Fma.MultiplyAdd(wv, Avx.LoadVector256(x + 3L * columns + k), a3);
            }
            (sums[0], sums[1], sums[2], sums[3]) = (Vector256.Sum(a0), Vector256.Sum(a1), Vector256.Sum(a2), Vector256.Sum(a3));
        }
        else sums.Clear();
        for (; k < columns; k++)
        {
            float wk = Float8E4M3.Values[w[k]];
            for (int t = 0; t < tile; t++) sums[t] += wk * x[(long)t * columns + k];
        }
        for (int t = 0; t < tile; t++) y[(long)t * yStride] = sums[t] * scale;
    }
}
