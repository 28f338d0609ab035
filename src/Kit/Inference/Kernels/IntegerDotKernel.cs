using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Kit.Inference.Kernels;

/// <summary>
/// Packed int4 or int8 weights times int8 activations (<see cref="ActivationQuantizer"/>), per 32-column block:
/// y[b, r] = Σ_block sw[r, g] · sx[b, block] · Σ_{k∈block} c[r, k] · q[b, k] − Σ_g sw[r, g] · zc[r, g] · Σ_{k∈g} sx · q,
/// with c the stored code and zc the stored code of 0 (<see cref="PackedView.ZeroCode"/>). The block dot products
/// are exact in int32 (vpdpbusd, or vpmaddubsw + vpmaddwd: unsigned codes times signed activations, int8 weights
/// through the sign trick of <see cref="IBlockDecoder.Pair"/>). Blocks go two at a time: one 256-bit register
/// holds four int32 partial sums of each, and one FMA applies both blocks' scales, so no block needs a horizontal sum.
/// </summary>
internal static unsafe class IntegerDotKernel
{
    /// <summary>
    /// How far ahead of the row being read the kernels prefetch the packed weights. Over the ~150 different layers
    /// of a decode step the hardware prefetchers alone let an integer kernel stream only 7 GB/s; prefetching
    /// 0.5/1/2/4/8 KiB ahead took TinyLlama's 154 Linears from 61 ms to 51–54/43–49/41–47/27–40/36–39 ms
    /// (docs/BENCHMARKS.md). Rows are contiguous, so the prefetch runs on into the next row.
    /// </summary>
    internal const int PrefetchBytes = 4096;
    // Activation rows per block: 64 rows of 2048 columns are 128 KiB of codes and 64 KiB of scales.
    const int ActivationBlockRows = 64;
    // Bytes of packed weight rows per block.
    const int WeightBlockBytes = 128 << 10;
    // Tiles of eight activation rows decode each weight pair once for eight rows: their accumulators and the decoded
    // weights need AVX-512's 32 vector registers (ymm16–31 under EVEX); with 16 they would spill. They are used where
    // eight rows of activation codes and scales fit this much of L1 (2048 columns: 24 KiB; 5632: 66 KiB, so four).
    const int L1TileBytes = 32 << 10;

    /// <summary>
    /// Rows [<paramref name="rowStart"/>, <paramref name="rowEnd"/>) of y [batch, w.Rows]. The AVX-512 path
    /// uses AVX-VNNI's 256-bit vpdpbusd where the CPU has it (.NET 10 exposes no 512-bit vpdpbusd, and the
    /// 256-bit kernel already runs near the memory bound); the AVX2 path uses vpmaddubsw + vpmaddwd.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Rows<TDecoder>(in PackedView w, in QuantizedActivations x, int batch, float* y, int rowStart, int rowEnd, KernelPath path)
        where TDecoder : struct, IBlockDecoder
    {
        if (path == KernelPath.Scalar)
        {
            for (int r = rowStart; r < rowEnd; r++)
                for (int b = 0; b < batch; b++) y[(long)b * w.Rows + r] = ScalarRow<TDecoder>(w, r, x, b);
        }
        else if (path == KernelPath.Avx512 && AvxVnni.IsSupported) Tiles<TDecoder, VnniDot>(w, x, batch, y, rowStart, rowEnd);
        else Tiles<TDecoder, Avx2Dot>(w, x, batch, y, rowStart, rowEnd);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void Tiles<TDecoder, TDot>(in PackedView w, in QuantizedActivations x, int batch, float* y, int rowStart, int rowEnd)
        where TDecoder : struct, IBlockDecoder where TDot : struct, IDot
    {
        // Many rows of x (prefill) run in blocks: a block of weight rows (kept in L2) over a block of activation rows
        // (also kept in L2), so that neither is streamed from memory once per row of the other. Within them a tile of
        // activation rows stays in L1 while the block's weight rows pass it.
        int blockRows = Math.Max(1, WeightBlockBytes / w.RowBytes);
        int activationRowBytes = QuantizedActivations.RowCodes(w.PaddedColumns) + QuantizedActivations.RowScales(w.PaddedColumns) * sizeof(float);
        bool eight = Avx512F.IsSupported && 8 * activationRowBytes <= L1TileBytes;
        for (int rb = rowStart; rb < rowEnd; rb += blockRows)
        {
            int rbEnd = Math.Min(rowEnd, rb + blockRows);
            for (int tb = 0; tb < batch; tb += ActivationBlockRows)
            {
                int tbEnd = Math.Min(batch, tb + ActivationBlockRows);
                int t = tb;
                if (eight)
                    for (; t + 8 <= tbEnd; t += 8)
                        for (int r = rb; r < rbEnd; r++) Row<TDecoder, TDot, EightRows>(w, r, x, t, y);
                for (; t + 4 <= tbEnd; t += 4)
                    for (int r = rb; r < rbEnd; r++) Row<TDecoder, TDot, FourRows>(w, r, x, t, y);
                for (int r = rb; r < rbEnd; r++)
                    switch (tbEnd - t)
                    {
                        case 3: Row<TDecoder, TDot, ThreeRows>(w, r, x, t, y); break;
                        case 2: Row<TDecoder, TDot, TwoRows>(w, r, x, t, y); break;
                        case 1: Row<TDecoder, TDot, OneRow>(w, r, x, t, y); break;
                    }
            }
        }
    }

    // The loop runs over pairs of blocks, not groups, so that groups of one block (Q4_0's 32) cost no loop of
    // their own. Not inlined: each tile size gets its own registers, none spilled.
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    static void Row<TDecoder, TDot, TTile>(in PackedView w, int r, in QuantizedActivations x, int t, float* y)
        where TDecoder : struct, IBlockDecoder where TDot : struct, IDot where TTile : struct, ITile
    {
        int k = w.PaddedColumns, blocks = k / PackedLayout.BlockColumns;
        int rowCodes = QuantizedActivations.RowCodes(k), rowScales = QuantizedActivations.RowScales(k);
        float* scales = w.Scale + (long)r * w.Groups;
        byte* wb = w.Data + (long)r * w.RowBytes;
        sbyte* qb = x.Codes + (long)t * rowCodes;
        float* sb = x.Scales + (long)t * rowScales;
        Vector256<float> c0 = default, c1 = default, c2 = default, c3 = default, c4 = default, c5 = default, c6 = default, c7 = default;
        int g = -1, groupEnd = 0, block = 0;
        bool straddled = false;
        var scale = Vector256<float>.Zero;
        for (; block + 2 <= blocks; block += 2)
        {
            // Most pairs stay in the group of the previous one: one comparison. A pair after one that straddled two
            // groups (groups of an odd number of blocks) needs its first half's scale too.
            if (block + 2 > groupEnd || straddled)
            {
                NextGroup(w, block, ref g, ref groupEnd);
                int firstGroup = g;
                NextGroup(w, block + 1, ref g, ref groupEnd);
                straddled = firstGroup != g;
                scale = Vector256.Create(Vector128.Create(scales[firstGroup]), Vector128.Create(scales[g]));
            }
            Sse.Prefetch0(wb + PrefetchBytes);
            Pair<TDecoder, TDot, TTile>(wb, single: false, qb, rowCodes, sb, rowScales, scale, ref c0, ref c1, ref c2, ref c3, ref c4, ref c5, ref c6, ref c7);
            wb += 2 * TDecoder.BlockBytes;
            qb += 2 * PackedLayout.BlockColumns;
            sb += 8;
        }
        if (block < blocks)
        {
            NextGroup(w, block, ref g, ref groupEnd);
            Pair<TDecoder, TDot, TTile>(wb, single: true, qb, rowCodes, sb, rowScales, Vector256.Create(scales[g]), ref c0, ref c1, ref c2, ref c3, ref c4, ref c5, ref c6, ref c7);
        }
        long n = w.Rows;
        float* yt = y + t * n + r;
        yt[0] = Vector256.Sum(c0) - ZeroTerm(w, r, x, t, vector: true);
        if (TTile.Count > 1) yt[n] = Vector256.Sum(c1) - ZeroTerm(w, r, x, t + 1, vector: true);
        if (TTile.Count > 2) yt[2 * n] = Vector256.Sum(c2) - ZeroTerm(w, r, x, t + 2, vector: true);
        if (TTile.Count > 3) yt[3 * n] = Vector256.Sum(c3) - ZeroTerm(w, r, x, t + 3, vector: true);
        if (TTile.Count > 4) yt[4 * n] = Vector256.Sum(c4) - ZeroTerm(w, r, x, t + 4, vector: true);
        if (TTile.Count > 5) yt[5 * n] = Vector256.Sum(c5) - ZeroTerm(w, r, x, t + 5, vector: true);
        if (TTile.Count > 6) yt[6 * n] = Vector256.Sum(c6) - ZeroTerm(w, r, x, t + 6, vector: true);
        if (TTile.Count > 7) yt[7 * n] = Vector256.Sum(c7) - ZeroTerm(w, r, x, t + 7, vector: true);
    }

    // Moves g to the group of block (groups without columns own no blocks).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void NextGroup(in PackedView w, int block, ref int g, ref int groupEnd)
    {
        while (block >= groupEnd) groupEnd = w.GroupBlocks[++g + 1];
    }

    // Two weight blocks against the tile's activation rows (row i's codes at qb + i · rowCodes, scales at
    // sb + i · rowScales): c += int32 partial sums · sw · sx, lanes 0–3 the first block's, 4–7 the second's.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Pair<TDecoder, TDot, TTile>(byte* wb, bool single, sbyte* qb, int rowCodes, float* sb, int rowScales, Vector256<float> scale,
        ref Vector256<float> c0, ref Vector256<float> c1, ref Vector256<float> c2, ref Vector256<float> c3,
        ref Vector256<float> c4, ref Vector256<float> c5, ref Vector256<float> c6, ref Vector256<float> c7)
        where TDecoder : struct, IBlockDecoder where TDot : struct, IDot where TTile : struct, ITile
    {
        TDecoder.Pair(wb, single, out var low, out var high, out var lowSigns, out var highSigns);
        c0 = Fma.MultiplyAdd(Dot<TDecoder, TDot>(low, high, lowSigns, highSigns, qb), scale * Avx.LoadVector256(sb), c0);
        if (TTile.Count > 1) c1 = Fma.MultiplyAdd(Dot<TDecoder, TDot>(low, high, lowSigns, highSigns, qb + rowCodes), scale * Avx.LoadVector256(sb + rowScales), c1);
        if (TTile.Count > 2) c2 = Fma.MultiplyAdd(Dot<TDecoder, TDot>(low, high, lowSigns, highSigns, qb + 2L * rowCodes), scale * Avx.LoadVector256(sb + 2L * rowScales), c2);
        if (TTile.Count > 3) c3 = Fma.MultiplyAdd(Dot<TDecoder, TDot>(low, high, lowSigns, highSigns, qb + 3L * rowCodes), scale * Avx.LoadVector256(sb + 3L * rowScales), c3);
        if (TTile.Count > 4) c4 = Fma.MultiplyAdd(Dot<TDecoder, TDot>(low, high, lowSigns, highSigns, qb + 4L * rowCodes), scale * Avx.LoadVector256(sb + 4L * rowScales), c4);
        if (TTile.Count > 5) c5 = Fma.MultiplyAdd(Dot<TDecoder, TDot>(low, high, lowSigns, highSigns, qb + 5L * rowCodes), scale * Avx.LoadVector256(sb + 5L * rowScales), c5);
        if (TTile.Count > 6) c6 = Fma.MultiplyAdd(Dot<TDecoder, TDot>(low, high, lowSigns, highSigns, qb + 6L * rowCodes), scale * Avx.LoadVector256(sb + 6L * rowScales), c6);
        if (TTile.Count > 7) c7 = Fma.MultiplyAdd(Dot<TDecoder, TDot>(low, high, lowSigns, highSigns, qb + 7L * rowCodes), scale * Avx.LoadVector256(sb + 7L * rowScales), c7);
    }

    // Eight int32 sums of eight products each (|sum| ≤ 8 · 128 · 127), exact in float32.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector256<float> Dot<TDecoder, TDot>(Vector256<byte> low, Vector256<byte> high, Vector256<sbyte> lowSigns, Vector256<sbyte> highSigns, sbyte* q)
        where TDecoder : struct, IBlockDecoder where TDot : struct, IDot
    {
        var sums = TDot.Dot(Vector256<int>.Zero, low, TDecoder.Signed(Avx.LoadVector256(q), lowSigns));
        return Avx.ConvertToVector256Single(TDot.Dot(sums, high, TDecoder.Signed(Avx.LoadVector256(q + 32), highSigns)));
    }

    /// <summary>
    /// Σ_g sw · zc · Σ_{k∈g} sx · q: what the stored codes' offset from the signed codes added. Vectorised over
    /// groups: a scalar loop costs as much as the blocks of a whole row, its additions being one serial chain.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static float ZeroTerm(in PackedView w, int r, in QuantizedActivations x, int b, bool vector)
    {
        if (w.CodeOffset == 0 && w.Zero == null) return 0;
        float* scales = w.Scale + (long)r * w.Groups, sums = x.GroupSums + (long)b * w.Groups;
        sbyte* zeros = w.Zero == null ? null : w.Zero + (long)r * w.Groups;
        int g = 0;
        var terms = Vector256<float>.Zero;
        if (vector)
            for (; g + 8 <= w.Groups; g += 8)
            {
                var codes = Vector256.Create((float)w.CodeOffset);
                if (zeros != null) codes += Avx.ConvertToVector256Single(Avx2.ConvertToVector256Int32(zeros + g));
                terms = Fma.MultiplyAdd(Avx.LoadVector256(scales + g) * codes, Avx.LoadVector256(sums + g), terms);
            }
        float term = Vector256.Sum(terms);
        for (; g < w.Groups; g++) term += scales[g] * (w.CodeOffset + (zeros == null ? 0 : zeros[g])) * sums[g];
        return term;
    }

    /// <summary>The portable path: the same block sums, one product at a time.</summary>
    static float ScalarRow<TDecoder>(in PackedView w, int r, in QuantizedActivations x, int b) where TDecoder : struct, IBlockDecoder
    {
        byte* row = w.Data + (long)r * w.RowBytes;
        sbyte* q = x.Codes + (long)b * QuantizedActivations.RowCodes(w.PaddedColumns);
        float* sx = x.Scales + (long)b * QuantizedActivations.RowScales(w.PaddedColumns);
        float sum = 0;
        for (int g = 0; g < w.Groups; g++)
            for (int block = w.GroupBlocks[g]; block < w.GroupBlocks[g + 1]; block++)
            {
                int dot = 0;
                for (int c = block * PackedLayout.BlockColumns; c < (block + 1) * PackedLayout.BlockColumns; c++)
                    dot += TDecoder.Code(row, c) * q[QuantizedActivations.CodeIndex(c)];
                sum += w.Scale[(long)r * w.Groups + g] * sx[4 * block] * dot;
            }
        return sum - ZeroTerm(w, r, x, b, vector: false);
    }
}

/// <summary>Adds to eight int32 lanes the sums of four adjacent products of unsigned weight bytes and signed activation bytes.</summary>
internal interface IDot
{
    /// <summary>Lane i = acc[i] + Σ_{j&lt;4} u[4i + j] · s[4i + j].</summary>
    static abstract Vector256<int> Dot(Vector256<int> acc, Vector256<byte> u, Vector256<sbyte> s);
}

/// <summary>One AVX-VNNI vpdpbusd.</summary>
internal readonly struct VnniDot : IDot
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<int> Dot(Vector256<int> acc, Vector256<byte> u, Vector256<sbyte> s) => AvxVnni.MultiplyWideningAndAdd(acc, u, s);
}

/// <summary>
/// vpmaddubsw then vpmaddwd: pairs of products sum in int16 without saturating (2 · 128 · 127 &lt; 2^15 for
/// int8 magnitudes, 2 · 15 · 127 for nibbles), then pairs of pairs widen to int32.
/// </summary>
internal readonly struct Avx2Dot : IDot
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<int> Dot(Vector256<int> acc, Vector256<byte> u, Vector256<sbyte> s) =>
        Avx2.Add(acc, Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(u, s), Vector256.Create((short)1)));
}
