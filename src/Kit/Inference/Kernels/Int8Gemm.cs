using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Kit.Inference.Kernels;

/// <summary>
/// W8A8 for many rows of x: int8 weights × int8 per-token activations (<see cref="TokenQuantizer"/>) → int32, a
/// real GEMM. y[b, r] = sx[b] · Σ_g sw[r, g] · (Σ_{k∈g} q[b, k] · c[r, k] − z[r, g] · Σ_{k∈g} q[b, k]), each group's
/// dot product exact in int32. Tiled for the caches: every core takes blocks of weight rows (a few hundred KiB,
/// kept in L2) and runs each over blocks of activation rows; a register tile of up to four activation rows by up
/// to three weight rows (two on AVX2) shares every load. AVX-VNNI's vpdpbusd multiplies q + 128 by the signed
/// codes (the kernel subtracts 128 · Σ c, cached per weight); AVX2 uses vpmaddubsw on |c| and q with c's sign;
/// the scalar path is the reference.
/// </summary>
internal static unsafe class Int8Gemm
{
    // Activation rows per block: 64 rows of 2048 codes are 128 KiB, which stay in L2 while a weight block runs over them.
    const int ActivationBlockRows = 64;
    // Bytes of weight codes per block: the block is reread once per activation block, from L2.
    const int WeightBlockBytes = 192 << 10;

    /// <summary>
    /// y [batch, w.Rows] from int8 codes <paramref name="w"/>, their per-group sums <paramref name="codeSums"/>
    /// [rows, groups] and quantized x.
    /// </summary>
    public static void Multiply(in PackedView w, int* codeSums, in TokenActivations x, int batch, float* y, KernelPath path)
    {
        var view = w;
        var xq = x;
        nint ya = (nint)y, sa = (nint)codeSums;
        bool vnni = path == KernelPath.Avx512 && AvxVnni.IsSupported;
        if (vnni != x.Offset && path != KernelPath.Scalar)
            throw new ArgumentException("Int8Gemm: VNNI takes offset activation codes, the other paths signed ones", nameof(x));
        RowChunks.For(view.Rows, (long)view.Rows * view.PaddedColumns * batch, (start, end) =>
        {
            if (path == KernelPath.Scalar) Scalar(view, xq, batch, (float*)ya, start, end);
            else if (vnni) Blocks<VnniGemmDot, ThreeRows>(view, (int*)sa, xq, batch, (float*)ya, start, end);
            // With AVX-512 the JIT has 32 vector registers: a tile of three weight rows fits without spilling.
            else if (path == KernelPath.Avx512) Blocks<Avx2GemmDot, ThreeRows>(view, (int*)sa, xq, batch, (float*)ya, start, end);
            else Blocks<Avx2GemmDot, TwoRows>(view, (int*)sa, xq, batch, (float*)ya, start, end);
        });
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void Blocks<TDot, TWeights>(in PackedView w, int* codeSums, in TokenActivations x, int batch, float* y, int start, int end)
        where TDot : struct, IGemmDot where TWeights : struct, ITile
    {
        int step = TWeights.Count;
        int blockRows = Math.Max(step, WeightBlockBytes / w.PaddedColumns / step * step);
        for (int rb = start; rb < end; rb += blockRows)
        {
            int rbEnd = Math.Min(end, rb + blockRows);
            for (int tb = 0; tb < batch; tb += ActivationBlockRows)
            {
                int tbEnd = Math.Min(batch, tb + ActivationBlockRows);
                for (int r = rb; r < rbEnd; r += step)
                    for (int t = tb; t < tbEnd; t += 4)
                        Tile<TDot>(Math.Min(step, rbEnd - r), Math.Min(4, tbEnd - t), w, codeSums, x, batch, y, r, t);
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Tile<TDot>(int weights, int activations, in PackedView w, int* codeSums, in TokenActivations x, int batch, float* y, int r, int t)
        where TDot : struct, IGemmDot
    {
        switch (weights)
        {
            case 3: Tile<TDot, ThreeRows>(activations, w, codeSums, x, batch, y, r, t); break;
            case 2: Tile<TDot, TwoRows>(activations, w, codeSums, x, batch, y, r, t); break;
            default: Tile<TDot, OneRow>(activations, w, codeSums, x, batch, y, r, t); break;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Tile<TDot, TWeights>(int activations, in PackedView w, int* codeSums, in TokenActivations x, int batch, float* y, int r, int t)
        where TDot : struct, IGemmDot where TWeights : struct, ITile
    {
        switch (activations)
        {
            case 4: Micro<TDot, TWeights, FourRows>(w, codeSums, x, y, r, t); break;
            case 3: Micro<TDot, TWeights, ThreeRows>(w, codeSums, x, y, r, t); break;
            case 2: Micro<TDot, TWeights, TwoRows>(w, codeSums, x, y, r, t); break;
            default: Micro<TDot, TWeights, OneRow>(w, codeSums, x, y, r, t); break;
        }
    }

    // Weight rows r.. (TWeights of them) by activation rows t.. (TActivations): one 32-byte step of every row per
    // iteration, int32 accumulators per group, a horizontal sum and the group's scale at each group's end. Not
    // inlined: each tile shape gets its own registers.
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    static void Micro<TDot, TWeights, TActivations>(in PackedView w, int* codeSums, in TokenActivations x, float* y, int r, int t)
        where TDot : struct, IGemmDot where TWeights : struct, ITile where TActivations : struct, ITile
    {
        int k = w.PaddedColumns, groups = w.Groups;
        sbyte* w0 = (sbyte*)w.Data + (long)r * w.RowBytes;
        sbyte* w1 = w0 + w.RowBytes, w2 = w1 + w.RowBytes;
        byte* a0 = x.Codes + (long)t * k;
        byte* a1 = a0 + k, a2 = a1 + k, a3 = a2 + k;
        // Partial sums Σ_g sw · dot, [activation row][weight row].
        float* p = stackalloc float[12];
        new Span<float>(p, 12).Clear();
        for (int g = 0; g < groups; g++)
        {
            Vector256<int> c00 = default, c01 = default, c02 = default, c10 = default, c11 = default, c12 = default;
            Vector256<int> c20 = default, c21 = default, c22 = default, c30 = default, c31 = default, c32 = default;
            int end = w.GroupBlocks[g + 1] * PackedLayout.BlockColumns;
            for (int c = w.GroupBlocks[g] * PackedLayout.BlockColumns; c < end; c += PackedLayout.BlockColumns)
            {
                var v0 = Avx.LoadVector256(w0 + c);
                var v1 = TWeights.Count > 1 ? Avx.LoadVector256(w1 + c) : default;
                var v2 = TWeights.Count > 2 ? Avx.LoadVector256(w2 + c) : default;
                var m0 = TDot.Magnitude(v0);
                var m1 = TWeights.Count > 1 ? TDot.Magnitude(v1) : default;
                var m2 = TWeights.Count > 2 ? TDot.Magnitude(v2) : default;
                var a = Avx.LoadVector256(a0 + c);
                c00 = TDot.Dot(c00, a, v0, m0);
                if (TWeights.Count > 1) c01 = TDot.Dot(c01, a, v1, m1);
                if (TWeights.Count > 2) c02 = TDot.Dot(c02, a, v2, m2);
                if (TActivations.Count > 1)
                {
                    a = Avx.LoadVector256(a1 + c);
                    c10 = TDot.Dot(c10, a, v0, m0);
                    if (TWeights.Count > 1) c11 = TDot.Dot(c11, a, v1, m1);
                    if (TWeights.Count > 2) c12 = TDot.Dot(c12, a, v2, m2);
                }
                if (TActivations.Count > 2)
                {
                    a = Avx.LoadVector256(a2 + c);
                    c20 = TDot.Dot(c20, a, v0, m0);
                    if (TWeights.Count > 1) c21 = TDot.Dot(c21, a, v1, m1);
                    if (TWeights.Count > 2) c22 = TDot.Dot(c22, a, v2, m2);
                }
                if (TActivations.Count > 3)
                {
                    a = Avx.LoadVector256(a3 + c);
                    c30 = TDot.Dot(c30, a, v0, m0);
                    if (TWeights.Count > 1) c31 = TDot.Dot(c31, a, v1, m1);
                    if (TWeights.Count > 2) c32 = TDot.Dot(c32, a, v2, m2);
                }
            }
            GroupEnd<TDot>(w, codeSums, x, p, r, t, g, 0, 0, c00);
            if (TWeights.Count > 1) GroupEnd<TDot>(w, codeSums, x, p, r, t, g, 0, 1, c01);
            if (TWeights.Count > 2) GroupEnd<TDot>(w, codeSums, x, p, r, t, g, 0, 2, c02);
            if (TActivations.Count > 1)
            {
                GroupEnd<TDot>(w, codeSums, x, p, r, t, g, 1, 0, c10);
                if (TWeights.Count > 1) GroupEnd<TDot>(w, codeSums, x, p, r, t, g, 1, 1, c11);
                if (TWeights.Count > 2) GroupEnd<TDot>(w, codeSums, x, p, r, t, g, 1, 2, c12);
            }
            if (TActivations.Count > 2)
            {
                GroupEnd<TDot>(w, codeSums, x, p, r, t, g, 2, 0, c20);
                if (TWeights.Count > 1) GroupEnd<TDot>(w, codeSums, x, p, r, t, g, 2, 1, c21);
                if (TWeights.Count > 2) GroupEnd<TDot>(w, codeSums, x, p, r, t, g, 2, 2, c22);
            }
            if (TActivations.Count > 3)
            {
                GroupEnd<TDot>(w, codeSums, x, p, r, t, g, 3, 0, c30);
                if (TWeights.Count > 1) GroupEnd<TDot>(w, codeSums, x, p, r, t, g, 3, 1, c31);
                if (TWeights.Count > 2) GroupEnd<TDot>(w, codeSums, x, p, r, t, g, 3, 2, c32);
            }
        }
        long n = w.Rows;
        for (int i = 0; i < TActivations.Count; i++)
            for (int j = 0; j < TWeights.Count; j++)
                y[(t + i) * n + r + j] = x.Scales[t + i] * p[3 * i + j];
    }

    // p[i][j] += sw · (dot − 128 · Σc (VNNI's offset) − z · Σq); the int32 dot of a group is exact, its float32 conversion rounds once.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void GroupEnd<TDot>(in PackedView w, int* codeSums, in TokenActivations x, float* p, int r, int t, int g, int i, int j, Vector256<int> sums)
        where TDot : struct, IGemmDot
    {
        long at = (long)(r + j) * w.Groups + g;
        long dot = Vector256.Sum(sums);
        if (TDot.Offset) dot -= 128L * codeSums[at];
        if (w.Zero != null) dot -= (long)w.Zero[at] * x.GroupSums[(long)(t + i) * w.Groups + g];
        p[3 * i + j] += w.Scale[at] * dot;
    }

    /// <summary>The portable path: the same group sums, one product at a time.</summary>
    static void Scalar(in PackedView w, in TokenActivations x, int batch, float* y, int start, int end)
    {
        int k = w.PaddedColumns;
        for (int r = start; r < end; r++)
        {
            sbyte* codes = (sbyte*)w.Data + (long)r * w.RowBytes;
            for (int b = 0; b < batch; b++)
            {
                byte* q = x.Codes + (long)b * k;
                float sum = 0;
                for (int g = 0; g < w.Groups; g++)
                {
                    long dot = 0;
                    for (int c = w.GroupBlocks[g] * PackedLayout.BlockColumns; c < w.GroupBlocks[g + 1] * PackedLayout.BlockColumns; c++)
                        dot += codes[c] * (x.Offset ? q[c] - 128 : (sbyte)q[c]);
                    if (w.Zero != null) dot -= (long)w.Zero[(long)r * w.Groups + g] * x.GroupSums[(long)b * w.Groups + g];
                    sum += w.Scale[(long)r * w.Groups + g] * dot;
                }
                y[(long)b * w.Rows + r] = x.Scales[b] * sum;
            }
        }
    }
}

/// <summary>Adds to eight int32 lanes the sums of four adjacent products of activation codes and signed int8 weights.</summary>
internal interface IGemmDot
{
    /// <summary>Whether the activation codes carry +128 (see <see cref="TokenActivations.Offset"/>).</summary>
    static abstract bool Offset { get; }
    /// <summary>What <see cref="Dot"/> needs of the weights besides the codes, computed once per load.</summary>
    static abstract Vector256<byte> Magnitude(Vector256<sbyte> weights);
    /// <summary>Lane i = acc[i] + Σ_{j&lt;4} a[4i + j] · w[4i + j].</summary>
    static abstract Vector256<int> Dot(Vector256<int> acc, Vector256<byte> activations, Vector256<sbyte> weights, Vector256<byte> magnitude);
}

/// <summary>vpdpbusd on the unsigned q + 128 and the signed codes.</summary>
internal readonly struct VnniGemmDot : IGemmDot
{
    public static bool Offset => true;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<byte> Magnitude(Vector256<sbyte> weights) => default;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<int> Dot(Vector256<int> acc, Vector256<byte> activations, Vector256<sbyte> weights, Vector256<byte> magnitude) =>
        VnniDot.Dot(acc, activations, weights);
}

/// <summary>
/// |c| · (q with c's sign) = c · q through vpmaddubsw, which would saturate on q + 128 (2 · 255 · 128 &gt; 2^15) but
/// not on |q| ≤ 127, |c| ≤ 128.
/// </summary>
internal readonly struct Avx2GemmDot : IGemmDot
{
    public static bool Offset => false;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<byte> Magnitude(Vector256<sbyte> weights) => Avx2.Abs(weights);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<int> Dot(Vector256<int> acc, Vector256<byte> activations, Vector256<sbyte> weights, Vector256<byte> magnitude) =>
        Avx2Dot.Dot(acc, magnitude, Avx2.Sign(activations.AsSByte(), weights));
}
