using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Kit.Inference.Kernels;

/// <summary>
/// W8A8: int8 weights times per-token int8 activations (<see cref="ActivationQuantizer"/>), exact int32 sums
/// per group, then y[b, r] = x_scale[b] · Σ_g scale[r, g] · (Σ_{k∈g} qw·qx − zero[r, g] · Σ_{k∈g} qx).
/// The int8 × int8 products use the vpmaddubsw trick: |qw| is unsigned and qx takes qw's sign (vpsignb),
/// so pairs of products sum in int16 without saturating (2 · 128 · 127 &lt; 2^15), then vpmaddwd (or one
/// AVX-VNNI vpdpbusd) widens them to int32.
/// </summary>
internal static unsafe class Int8ActivationKernel
{
    /// <summary>
    /// Rows [<paramref name="rowStart"/>, <paramref name="rowEnd"/>) of y [batch, w.Rows] from codes q
    /// [batch, w.PaddedColumns], their scales [batch] and, for asymmetric weights, group sums [batch, groups].
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Rows(in PackedView w, sbyte* q, float* xScales, int* groupSums, int batch, float* y, int rowStart, int rowEnd, KernelPath path)
    {
        for (int r = rowStart; r < rowEnd; r++)
        {
            if (path == KernelPath.Scalar)
            {
                for (int b = 0; b < batch; b++)
                    y[(long)b * w.Rows + r] = xScales[b] * ScalarRow(w, r, q + (long)b * w.PaddedColumns, groupSums == null ? null : groupSums + (long)b * w.Groups);
                continue;
            }
            int t = 0;
            for (; t + 4 <= batch; t += 4) Row<FourRows>(w, r, q, xScales, groupSums, t, y);
            switch (batch - t)
            {
                case 3: Row<ThreeRows>(w, r, q, xScales, groupSums, t, y); break;
                case 2: Row<TwoRows>(w, r, q, xScales, groupSums, t, y); break;
                case 1: Row<OneRow>(w, r, q, xScales, groupSums, t, y); break;
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector256<int> Dot(Vector256<int> acc, Vector256<byte> weightMagnitude, Vector256<sbyte> weight, sbyte* x)
    {
        var signed = Avx2.Sign(Avx.LoadVector256(x), weight);
        if (AvxVnni.IsSupported) return AvxVnni.MultiplyWideningAndAdd(acc, weightMagnitude, signed);
        var pairs = Avx2.MultiplyAddAdjacent(weightMagnitude, signed);
        return Avx2.Add(acc, Avx2.MultiplyAddAdjacent(pairs, Vector256.Create((short)1)));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Row<TTile>(in PackedView w, int r, sbyte* q, float* xScales, int* groupSums, int t, float* y) where TTile : struct, ITile
    {
        int k = w.PaddedColumns;
        sbyte* row = (sbyte*)(w.Data + (long)r * w.RowBytes);
        float* scales = w.Scale + (long)r * w.Groups;
        sbyte* zeros = w.Zero == null ? null : w.Zero + (long)r * w.Groups;
        sbyte* q0 = q + (long)t * k;
        Vector256<float> f0 = default, f1 = default, f2 = default, f3 = default;
        float z0 = 0, z1 = 0, z2 = 0, z3 = 0;
        for (int g = 0; g < w.Groups; g++)
        {
            int block = w.GroupBlocks[g], end = w.GroupBlocks[g + 1];
            Vector256<int> i0 = default, i1 = default, i2 = default, i3 = default;
            for (; block < end; block++)
            {
                int at = block * PackedLayout.BlockColumns;
                var weight = Avx.LoadVector256(row + at);
                var magnitude = Avx2.Abs(weight);
                i0 = Dot(i0, magnitude, weight, q0 + at);
                if (TTile.Count > 1) i1 = Dot(i1, magnitude, weight, q0 + k + at);
                if (TTile.Count > 2) i2 = Dot(i2, magnitude, weight, q0 + 2L * k + at);
                if (TTile.Count > 3) i3 = Dot(i3, magnitude, weight, q0 + 3L * k + at);
            }
            var scale = Vector256.Create(scales[g]);
            // Each int32 lane gathers 4 products per block (|sum| ≤ 65024 per block), so it converts to float
            // exactly up to 258 blocks (8256 columns) per group and rounds by at most 2^−24 relative beyond.
            f0 = Fma.MultiplyAdd(Avx.ConvertToVector256Single(i0), scale, f0);
            if (TTile.Count > 1) f1 = Fma.MultiplyAdd(Avx.ConvertToVector256Single(i1), scale, f1);
            if (TTile.Count > 2) f2 = Fma.MultiplyAdd(Avx.ConvertToVector256Single(i2), scale, f2);
            if (TTile.Count > 3) f3 = Fma.MultiplyAdd(Avx.ConvertToVector256Single(i3), scale, f3);
            if (zeros == null) continue;
            float zs = zeros[g] * scales[g];
            int* sums = groupSums + (long)t * w.Groups + g;
            z0 += zs * sums[0];
            if (TTile.Count > 1) z1 += zs * sums[w.Groups];
            if (TTile.Count > 2) z2 += zs * sums[2L * w.Groups];
            if (TTile.Count > 3) z3 += zs * sums[3L * w.Groups];
        }
        long n = w.Rows;
        float* yt = y + t * n + r;
        yt[0] = xScales[t] * (Vector256.Sum(f0) - z0);
        if (TTile.Count > 1) yt[n] = xScales[t + 1] * (Vector256.Sum(f1) - z1);
        if (TTile.Count > 2) yt[2 * n] = xScales[t + 2] * (Vector256.Sum(f2) - z2);
        if (TTile.Count > 3) yt[3 * n] = xScales[t + 3] * (Vector256.Sum(f3) - z3);
    }

    /// <summary>The portable path: the same integer sums one product at a time.</summary>
    static float ScalarRow(in PackedView w, int r, sbyte* q, int* groupSums)
    {
        sbyte* row = (sbyte*)(w.Data + (long)r * w.RowBytes);
        float sum = 0;
        for (int g = 0; g < w.Groups; g++)
        {
            int dot = 0;
            for (int c = w.GroupBlocks[g] * PackedLayout.BlockColumns; c < w.GroupBlocks[g + 1] * PackedLayout.BlockColumns; c++)
                dot += row[c] * q[c];
            int zero = w.Zero == null ? 0 : w.Zero[(long)r * w.Groups + g];
            sum += w.Scale[(long)r * w.Groups + g] * (dot - (zero == 0 ? 0 : zero * groupSums[g]));
        }
        return sum;
    }
}
