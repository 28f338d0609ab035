using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Kit.Inference.Kernels;

/// <summary>
/// Weight-only kernels (W4A16, W8A16): y[b, r] = Σ_k x[b, k] · (code[r, k] − zero[r, g(k)]) · scale[r, g(k)],
/// float32 activations and accumulation. Each weight row is decoded once per tile of up to four activation
/// rows, so the packed stream is read from memory once per call and from L1 for the remaining tiles.
/// </summary>
internal static unsafe class FloatActivationKernel
{
    /// <summary>
    /// Rows [<paramref name="rowStart"/>, <paramref name="rowEnd"/>) of y [batch, w.Rows] from x [batch, w.PaddedColumns]
    /// (already gathered into packed column order, padding zeroed).
    /// </summary>
    // Optimised from the first call: tier-0 code would call the decoders instead of inlining them,
    // ten times slower, for the first dozens of calls of every layer.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Rows<TDecoder>(in PackedView w, float* x, int batch, float* y, int rowStart, int rowEnd, KernelPath path)
        where TDecoder : struct, IBlockDecoder
    {
        for (int r = rowStart; r < rowEnd; r++)
        {
            if (path == KernelPath.Scalar)
            {
                for (int b = 0; b < batch; b++) y[(long)b * w.Rows + r] = ScalarRow<TDecoder>(w, r, x + (long)b * w.PaddedColumns);
                continue;
            }
            int t = 0;
            if (path == KernelPath.Avx512)
            {
                for (; t + 4 <= batch; t += 4) Row512<TDecoder, FourRows>(w, r, x + (long)t * w.PaddedColumns, y + (long)t * w.Rows);
                switch (batch - t)
                {
                    case 3: Row512<TDecoder, ThreeRows>(w, r, x + (long)t * w.PaddedColumns, y + (long)t * w.Rows); break;
                    case 2: Row512<TDecoder, TwoRows>(w, r, x + (long)t * w.PaddedColumns, y + (long)t * w.Rows); break;
                    case 1: Row512<TDecoder, OneRow>(w, r, x + (long)t * w.PaddedColumns, y + (long)t * w.Rows); break;
                }
                continue;
            }
            for (; t + 4 <= batch; t += 4) Row<TDecoder, FourRows>(w, r, x + (long)t * w.PaddedColumns, y + (long)t * w.Rows);
            switch (batch - t)
            {
                case 3: Row<TDecoder, ThreeRows>(w, r, x + (long)t * w.PaddedColumns, y + (long)t * w.Rows); break;
                case 2: Row<TDecoder, TwoRows>(w, r, x + (long)t * w.PaddedColumns, y + (long)t * w.Rows); break;
                case 1: Row<TDecoder, OneRow>(w, r, x + (long)t * w.PaddedColumns, y + (long)t * w.Rows); break;
            }
        }
    }

    // Scale and zero point fold into the decode: w = code · s + (−zero · s), one FMA per 8 codes, so the
    // accumulators run across groups without a per-group reduction. Exact for symmetric grids (zero · s is
    // s times a power of two); with a zero point, −zero · s is rounded once, an error of 2^−24 · |zero · s|. One or two activation rows keep four
    // accumulators each, enough independent FMA chains to hide the FMA latency; three or four keep two.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Row<TDecoder, TTile>(in PackedView w, int r, float* x, float* y)
        where TDecoder : struct, IBlockDecoder where TTile : struct, ITile
    {
        int k = w.PaddedColumns;
        byte* row = w.Data + (long)r * w.RowBytes;
        float* scales = w.Scale + (long)r * w.Groups;
        Vector256<float> a0 = default, b0 = default, c0 = default, d0 = default;
        Vector256<float> a1 = default, b1 = default, c1 = default, d1 = default;
        Vector256<float> a2 = default, b2 = default, a3 = default, b3 = default;
        bool wide = TTile.Count <= 2;
        for (int g = 0; g < w.Groups; g++)
        {
            int block = w.GroupBlocks[g], end = w.GroupBlocks[g + 1];
            float s = scales[g];
            var scale = Vector256.Create(s);
            var offset = Vector256.Create(-w.ZeroCode(r, g) * s);
            for (; block < end; block++)
            {
                Sse.Prefetch0(row + (long)block * TDecoder.BlockBytes + IntegerDotKernel.PrefetchBytes);
                TDecoder.Decode(row + (long)block * TDecoder.BlockBytes, scale, offset, out var w0, out var w1, out var w2, out var w3);
                float* x0 = x + block * PackedLayout.BlockColumns;
                if (wide)
                {
                    a0 = Fma.MultiplyAdd(w0, Avx.LoadVector256(x0), a0);
                    b0 = Fma.MultiplyAdd(w1, Avx.LoadVector256(x0 + 8), b0);
                    c0 = Fma.MultiplyAdd(w2, Avx.LoadVector256(x0 + 16), c0);
                    d0 = Fma.MultiplyAdd(w3, Avx.LoadVector256(x0 + 24), d0);
                    if (TTile.Count > 1)
                    {
                        float* x1 = x0 + k;
                        a1 = Fma.MultiplyAdd(w0, Avx.LoadVector256(x1), a1);
                        b1 = Fma.MultiplyAdd(w1, Avx.LoadVector256(x1 + 8), b1);
                        c1 = Fma.MultiplyAdd(w2, Avx.LoadVector256(x1 + 16), c1);
                        d1 = Fma.MultiplyAdd(w3, Avx.LoadVector256(x1 + 24), d1);
                    }
                    continue;
                }
                a0 = Fma.MultiplyAdd(w0, Avx.LoadVector256(x0), a0);
                b0 = Fma.MultiplyAdd(w1, Avx.LoadVector256(x0 + 8), b0);
                a0 = Fma.MultiplyAdd(w2, Avx.LoadVector256(x0 + 16), a0);
                b0 = Fma.MultiplyAdd(w3, Avx.LoadVector256(x0 + 24), b0);
                float* xr = x0 + k;
                a1 = Fma.MultiplyAdd(w0, Avx.LoadVector256(xr), a1);
                b1 = Fma.MultiplyAdd(w1, Avx.LoadVector256(xr + 8), b1);
                a1 = Fma.MultiplyAdd(w2, Avx.LoadVector256(xr + 16), a1);
                b1 = Fma.MultiplyAdd(w3, Avx.LoadVector256(xr + 24), b1);
                xr += k;
                a2 = Fma.MultiplyAdd(w0, Avx.LoadVector256(xr), a2);
                b2 = Fma.MultiplyAdd(w1, Avx.LoadVector256(xr + 8), b2);
                a2 = Fma.MultiplyAdd(w2, Avx.LoadVector256(xr + 16), a2);
                b2 = Fma.MultiplyAdd(w3, Avx.LoadVector256(xr + 24), b2);
                if (TTile.Count > 3)
                {
                    xr += k;
                    a3 = Fma.MultiplyAdd(w0, Avx.LoadVector256(xr), a3);
                    b3 = Fma.MultiplyAdd(w1, Avx.LoadVector256(xr + 8), b3);
                    a3 = Fma.MultiplyAdd(w2, Avx.LoadVector256(xr + 16), a3);
                    b3 = Fma.MultiplyAdd(w3, Avx.LoadVector256(xr + 24), b3);
                }
            }
        }
        int n = w.Rows;
        y[r] = Vector256.Sum((a0 + b0) + (c0 + d0));
        if (TTile.Count > 1) y[n + r] = Vector256.Sum((a1 + b1) + (c1 + d1));
        if (TTile.Count > 2) y[2L * n + r] = Vector256.Sum(a2 + b2);
        if (TTile.Count > 3) y[3L * n + r] = Vector256.Sum(a3 + b3);
    }

    // Half the instructions of the 256-bit row: one zero-extending load and one mask or shift give 16 codes.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Row512<TDecoder, TTile>(in PackedView w, int r, float* x, float* y)
        where TDecoder : struct, IBlockDecoder where TTile : struct, ITile
    {
        int k = w.PaddedColumns;
        byte* row = w.Data + (long)r * w.RowBytes;
        float* scales = w.Scale + (long)r * w.Groups;
        Vector512<float> a0 = default, b0 = default, a1 = default, b1 = default, a2 = default, b2 = default, a3 = default, b3 = default;
        for (int g = 0; g < w.Groups; g++)
        {
            int block = w.GroupBlocks[g], end = w.GroupBlocks[g + 1];
            float s = scales[g];
            var scale = Vector512.Create(s);
            var offset = Vector512.Create(-w.ZeroCode(r, g) * s);
            for (; block < end; block++)
            {
                Sse.Prefetch0(row + (long)block * TDecoder.BlockBytes + IntegerDotKernel.PrefetchBytes);
                TDecoder.Decode(row + (long)block * TDecoder.BlockBytes, scale, offset, out Vector512<float> w0, out Vector512<float> w1);
                float* xr = x + block * PackedLayout.BlockColumns;
                a0 = Avx512F.FusedMultiplyAdd(w0, Vector512.Load(xr), a0);
                b0 = Avx512F.FusedMultiplyAdd(w1, Vector512.Load(xr + 16), b0);
                if (TTile.Count > 1)
                {
                    xr += k;
                    a1 = Avx512F.FusedMultiplyAdd(w0, Vector512.Load(xr), a1);
                    b1 = Avx512F.FusedMultiplyAdd(w1, Vector512.Load(xr + 16), b1);
                }
                if (TTile.Count > 2)
                {
                    xr += k;
                    a2 = Avx512F.FusedMultiplyAdd(w0, Vector512.Load(xr), a2);
                    b2 = Avx512F.FusedMultiplyAdd(w1, Vector512.Load(xr + 16), b2);
                }
                if (TTile.Count > 3)
                {
                    xr += k;
                    a3 = Avx512F.FusedMultiplyAdd(w0, Vector512.Load(xr), a3);
                    b3 = Avx512F.FusedMultiplyAdd(w1, Vector512.Load(xr + 16), b3);
                }
            }
        }
        long n = w.Rows;
        y[r] = Vector512.Sum(a0 + b0);
        if (TTile.Count > 1) y[n + r] = Vector512.Sum(a1 + b1);
        if (TTile.Count > 2) y[2 * n + r] = Vector512.Sum(a2 + b2);
        if (TTile.Count > 3) y[3 * n + r] = Vector512.Sum(a3 + b3);
    }

    /// <summary>The portable path: the same sum, one code at a time, value = (code − zero code) · scale.</summary>
    static float ScalarRow<TDecoder>(in PackedView w, int r, float* x) where TDecoder : struct, IBlockDecoder
    {
        byte* row = w.Data + (long)r * w.RowBytes;
        float sum = 0;
        for (int g = 0; g < w.Groups; g++)
        {
            float s = w.Scale[(long)r * w.Groups + g];
            int zero = w.ZeroCode(r, g);
            for (int c = w.GroupBlocks[g] * PackedLayout.BlockColumns; c < w.GroupBlocks[g + 1] * PackedLayout.BlockColumns; c++)
                sum += (TDecoder.Code(row, c) - zero) * s * x[c];
        }
        return sum;
    }
}
