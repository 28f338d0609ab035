using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Kit.Inference.Kernels;

/// <summary>
/// y [rows, out] = x [rows, in] · Wᵀ for a dense float32 W [out, in] and a few rows of x (decode steps): every
/// weight row is read from memory once per call and multiplied with up to eight rows of x (four without AVX-512) while it is in L1.
/// libtorch's GEMM copies (packs) the whole of W on every call with more than one row, which for the output head
/// of a 32,000-token vocabulary cost more than reading it (docs/BENCHMARKS.md, "Serving").
/// </summary>
/// <remarks>
/// Each row of x is summed in the same order whatever the number of rows beside it, so a sequence's logits in a
/// batch are bit for bit those it gets alone: greedy decoding in a batch equals decoding alone.
/// </remarks>
public static unsafe class DenseSkinnyMatmul
{
    /// <summary>The most rows of x for which this kernel beats libtorch's GEMM (whose packing pays off beyond).</summary>
    public const int MaxRows = 16;
    // Floats prefetched ahead of the weight being read, as the packed kernels do (IntegerDotKernel.PrefetchBytes).
    const int Ahead = IntegerDotKernel.PrefetchBytes / sizeof(float);

    /// <summary>
    /// Computes y = x · Wᵀ: <paramref name="weight"/> holds <paramref name="outFeatures"/> rows of
    /// <paramref name="inFeatures"/> values, <paramref name="x"/> <paramref name="rows"/> rows of inFeatures,
    /// <paramref name="y"/> receives rows × outFeatures.
    /// </summary>
    /// <exception cref="ArgumentException">A span's length does not match the shapes.</exception>
    public static void Multiply(ReadOnlySpan<float> weight, int outFeatures, int inFeatures, ReadOnlySpan<float> x, int rows, Span<float> y) =>
        Multiply(weight, outFeatures, inFeatures, x, rows, y, KernelPaths.Best);

    internal static void Multiply(ReadOnlySpan<float> weight, int outFeatures, int inFeatures, ReadOnlySpan<float> x, int rows, Span<float> y, KernelPath path)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(rows);
        if (weight.Length != (long)outFeatures * inFeatures)
            throw new ArgumentException($"weight: expected {outFeatures} × {inFeatures} values, got {weight.Length}", nameof(weight));
        if (x.Length != (long)rows * inFeatures)
            throw new ArgumentException($"x: expected {rows} × {inFeatures} values, got {x.Length}", nameof(x));
        if (y.Length != (long)rows * outFeatures)
            throw new ArgumentException($"y: expected {rows} × {outFeatures} values, got {y.Length}", nameof(y));
        if (rows == 0) return;
        path = KernelPaths.Clamp(path);
        fixed (float* wp = weight, xp = x, yp = y)
        {
            nint wa = (nint)wp, xa = (nint)xp, ya = (nint)yp;
            RowChunks.For(outFeatures, (long)outFeatures * inFeatures * rows, (start, end) =>
                Rows((float*)wa, outFeatures, inFeatures, (float*)xa, rows, (float*)ya, start, end, path));
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void Rows(float* w, int n, int k, float* x, int rows, float* y, int rowStart, int rowEnd, KernelPath path)
    {
        var sums = stackalloc float[8];
        for (int r = rowStart; r < rowEnd; r++)
        {
            float* wr = w + (long)r * k;
            int t = 0;
            if (path == KernelPath.Avx512)
                for (; t + 8 <= rows; t += 8) Row<EightRows>(wr, k, x + (long)t * k, y + (long)t * n + r, n, sums, path);
            for (; t + 4 <= rows; t += 4) Row<FourRows>(wr, k, x + (long)t * k, y + (long)t * n + r, n, sums, path);
            switch (rows - t)
            {
                case 3: Row<ThreeRows>(wr, k, x + (long)t * k, y + (long)t * n + r, n, sums, path); break;
                case 2: Row<TwoRows>(wr, k, x + (long)t * k, y + (long)t * n + r, n, sums, path); break;
                case 1: Row<OneRow>(wr, k, x + (long)t * k, y + (long)t * n + r, n, sums, path); break;
            }
        }
    }

    // Two accumulators per row of x, one for even and one for odd vectors of columns, enough independent FMA
    // chains across the tile; the leftover columns are added one by one after the vector sum, on every path.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Row<TTile>(float* w, int k, float* x, float* y, int n, float* sums, KernelPath path) where TTile : struct, ITile
    {
        int c = path switch
        {
            KernelPath.Avx512 => Vector512Sums<TTile>(w, k, x, sums),
            KernelPath.Avx2 => Vector256Sums<TTile>(w, k, x, sums),
            _ => ScalarSums<TTile>(sums),
        };
        for (int i = 0; i < TTile.Count; i++)
        {
            float sum = sums[i];
            float* xi = x + (long)i * k;
            for (int j = c; j < k; j++) sum += w[j] * xi[j];
            y[(long)i * n] = sum;
        }
    }

    static int ScalarSums<TTile>(float* sums) where TTile : struct, ITile
    {
        for (int i = 0; i < TTile.Count; i++) sums[i] = 0;
        return 0;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static int Vector512Sums<TTile>(float* w, int k, float* x, float* sums) where TTile : struct, ITile
    {
        Vector512<float> a0 = default, b0 = default, a1 = default, b1 = default, a2 = default, b2 = default, a3 = default, b3 = default;
        Vector512<float> a4 = default, b4 = default, a5 = default, b5 = default, a6 = default, b6 = default, a7 = default, b7 = default;
        int c = 0;
        for (; c + 32 <= k; c += 32)
        {
            Sse.Prefetch0(w + c + Ahead);
            Sse.Prefetch0(w + c + Ahead + 16);
            var w0 = Vector512.Load(w + c);
            var w1 = Vector512.Load(w + c + 16);
            float* xr = x + c;
            a0 = Avx512F.FusedMultiplyAdd(w0, Vector512.Load(xr), a0);
            b0 = Avx512F.FusedMultiplyAdd(w1, Vector512.Load(xr + 16), b0);
            if (TTile.Count > 1) Accumulate(w0, w1, xr += k, ref a1, ref b1);
            if (TTile.Count > 2) Accumulate(w0, w1, xr += k, ref a2, ref b2);
            if (TTile.Count > 3) Accumulate(w0, w1, xr += k, ref a3, ref b3);
            if (TTile.Count > 4) Accumulate(w0, w1, xr += k, ref a4, ref b4);
            if (TTile.Count > 5) Accumulate(w0, w1, xr += k, ref a5, ref b5);
            if (TTile.Count > 6) Accumulate(w0, w1, xr += k, ref a6, ref b6);
            if (TTile.Count > 7) Accumulate(w0, w1, xr += k, ref a7, ref b7);
        }
        sums[0] = Vector512.Sum(a0 + b0);
        if (TTile.Count > 1) sums[1] = Vector512.Sum(a1 + b1);
        if (TTile.Count > 2) sums[2] = Vector512.Sum(a2 + b2);
        if (TTile.Count > 3) sums[3] = Vector512.Sum(a3 + b3);
        if (TTile.Count > 4) sums[4] = Vector512.Sum(a4 + b4);
        if (TTile.Count > 5) sums[5] = Vector512.Sum(a5 + b5);
        if (TTile.Count > 6) sums[6] = Vector512.Sum(a6 + b6);
        if (TTile.Count > 7) sums[7] = Vector512.Sum(a7 + b7);
        return c;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Accumulate(Vector512<float> w0, Vector512<float> w1, float* x, ref Vector512<float> a, ref Vector512<float> b)
    {
        a = Avx512F.FusedMultiplyAdd(w0, Vector512.Load(x), a);
        b = Avx512F.FusedMultiplyAdd(w1, Vector512.Load(x + 16), b);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static int Vector256Sums<TTile>(float* w, int k, float* x, float* sums) where TTile : struct, ITile
    {
        Vector256<float> a0 = default, b0 = default, a1 = default, b1 = default, a2 = default, b2 = default, a3 = default, b3 = default;
        int c = 0;
        for (; c + 16 <= k; c += 16)
        {
            Sse.Prefetch0(w + c + Ahead);
            var w0 = Avx.LoadVector256(w + c);
            var w1 = Avx.LoadVector256(w + c + 8);
            float* xr = x + c;
            a0 = Fma.MultiplyAdd(w0, Avx.LoadVector256(xr), a0);
            b0 = Fma.MultiplyAdd(w1, Avx.LoadVector256(xr + 8), b0);
            if (TTile.Count > 1)
            {
                xr += k;
                a1 = Fma.MultiplyAdd(w0, Avx.LoadVector256(xr), a1);
                b1 = Fma.MultiplyAdd(w1, Avx.LoadVector256(xr + 8), b1);
            }
            if (TTile.Count > 2)
            {
                xr += k;
                a2 = Fma.MultiplyAdd(w0, Avx.LoadVector256(xr), a2);
                b2 = Fma.MultiplyAdd(w1, Avx.LoadVector256(xr + 8), b2);
            }
            if (TTile.Count > 3)
            {
                xr += k;
                a3 = Fma.MultiplyAdd(w0, Avx.LoadVector256(xr), a3);
                b3 = Fma.MultiplyAdd(w1, Avx.LoadVector256(xr + 8), b3);
            }
        }
        sums[0] = Vector256.Sum(a0 + b0);
        if (TTile.Count > 1) sums[1] = Vector256.Sum(a1 + b1);
        if (TTile.Count > 2) sums[2] = Vector256.Sum(a2 + b2);
        if (TTile.Count > 3) sums[3] = Vector256.Sum(a3 + b3);
        return c;
    }
}
