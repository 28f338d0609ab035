using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Kit.Inference.Kernels;
using Kit.Models.Safetensors;
using static TorchSharp.torch;

namespace Kit.Inference.Sparse;

/// <summary>Which instruction set a <see cref="Sparse24Matmul"/> call uses.</summary>
internal enum Sparse24Path
{
    /// <summary>Plain C#, one group at a time.</summary>
    Scalar,
    /// <summary>AVX2 + FMA: 4 groups (8 kept values) per step, x selected by two permutes and a blend.</summary>
    Avx2,
    /// <summary>AVX-512: 8 groups (16 kept values) per step, x selected by one two-register permute.</summary>
    Avx512,
}

/// <summary>
/// y [batch, out] = x [batch, in] · Wᵀ for a float32 <see cref="Sparse24Weight"/> on the CPU, reading the
/// kept values and their 2-bit positions in place: each kept value multiplies the x element its position
/// selects, so the dense weight is never built and half the weight bytes are read. Output rows are split
/// over the cores.
/// </summary>
public static unsafe class Sparse24Matmul
{
    internal static Sparse24Path Best { get; } =
        Avx512F.IsSupported && Vector512.IsHardwareAccelerated ? Sparse24Path.Avx512
        : Avx2.IsSupported && Fma.IsSupported ? Sparse24Path.Avx2
        : Sparse24Path.Scalar;

    /// <summary>
    /// Computes y = x · Wᵀ. <paramref name="x"/> holds <paramref name="batch"/> rows of
    /// <see cref="Sparse24Weight.InFeatures"/> values, <paramref name="y"/> receives batch rows of
    /// <see cref="Sparse24Weight.OutFeatures"/>. The weight must be float32 and on the CPU.
    /// </summary>
    public static void Multiply(Sparse24Weight weight, ReadOnlySpan<float> x, int batch, Span<float> y) =>
        Multiply(weight, x, batch, y, Best);

    internal static void Multiply(Sparse24Weight weight, ReadOnlySpan<float> x, int batch, Span<float> y, Sparse24Path path)
    {
        ArgumentNullException.ThrowIfNull(weight);
        ArgumentOutOfRangeException.ThrowIfNegative(batch);
        if (weight.Values.dtype != ScalarType.Float32 || weight.Device.type != TorchSharp.DeviceType.CPU)
            throw new ArgumentException($"Sparse24Weight.Values: the kernel needs float32 values on the CPU, got {weight.Values.dtype} on {weight.Device}", nameof(weight));
        if (x.Length != (long)batch * weight.InFeatures)
            throw new ArgumentException($"x: expected {batch} × {weight.InFeatures} values, got {x.Length}", nameof(x));
        if (y.Length != (long)batch * weight.OutFeatures)
            throw new ArgumentException($"y: expected {batch} × {weight.OutFeatures} values, got {y.Length}", nameof(y));
        if (batch == 0 || weight.OutFeatures == 0) return;
        if (path > Best) path = Best;
        var rows = new Rows((float*)TensorMemory.Address(weight.Values), TensorMemory.Address(weight.Metadata),
            weight.InFeatures, weight.OutFeatures, (int)weight.Metadata.shape[1]);
        fixed (float* xp = x, yp = y)
        {
            nint xa = (nint)xp, ya = (nint)yp;
            // Counted as the dense product's multiply-adds: the kernel does half of them.
            RowChunks.For(rows.Out, (long)weight.OutFeatures * weight.InFeatures * batch,
                (start, end) => rows.Run((float*)xa, batch, (float*)ya, start, end, path));
        }
    }

    readonly struct Rows(float* values, byte* metadata, int columns, int outFeatures, int metadataStride)
    {
        public int Out => outFeatures;

        // Four x rows at a time share each step's value load and position decoding; the rest go one by one.
        public void Run(float* x, int batch, float* y, int start, int end, Sparse24Path path)
        {
            int half = columns / 2, groups = columns / 4;
            for (int r = start; r < end; r++)
            {
                float* v = values + (long)r * half;
                byte* m = metadata + (long)r * metadataStride;
                int b = 0;
                if (path != Sparse24Path.Scalar)
                    for (; b + 4 <= batch; b += 4)
                    {
                        float* xb = x + (long)b * columns, yb = y + (long)b * outFeatures + r;
                        if (path == Sparse24Path.Avx512) DotAvx512x4(v, m, xb, columns, groups, yb, outFeatures);
                        else DotAvx2x4(v, m, xb, columns, groups, yb, outFeatures);
                    }
                for (; b < batch; b++)
                {
                    float* xb = x + (long)b * columns;
                    y[(long)b * outFeatures + r] = path switch
                    {
                        Sparse24Path.Avx512 => DotAvx512(v, m, xb, groups),
                        Sparse24Path.Avx2 => DotAvx2(v, m, xb, groups),
                        _ => DotScalar(v, m, xb, 0, groups),
                    };
                }
            }
        }
    }

    // Σ over groups [first, groups) of v[2g]·x[4g + i0] + v[2g+1]·x[4g + i1].
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static float DotScalar(float* v, byte* m, float* x, int first, int groups)
    {
        float sum = 0;
        for (int g = first; g < groups; g++)
        {
            int nibble = (m[g >> 1] >> ((g & 1) * 4)) & 15;
            sum += v[2 * g] * x[4 * g + (nibble & 3)] + v[2 * g + 1] * x[4 * g + (nibble >> 2)];
        }
        return sum;
    }

    // 8 groups per step: their 16 two-bit positions are one 32-bit word; value j selects x[4·(j/2) + pos_j]
    // out of the 32 x elements the groups cover, which vpermt2ps picks from two registers at once.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector512<int> Index512(byte* m, int g) =>
        ((Avx512F.ShiftRightLogicalVariable(Vector512.Create(Unsafe.ReadUnaligned<uint>(m + g / 2)),
            Vector512.Create(0u, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30)) & Vector512.Create(3u))
            + Vector512.Create(0u, 0, 4, 4, 8, 8, 12, 12, 16, 16, 20, 20, 24, 24, 28, 28)).AsInt32();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector512<float> Select512(float* x, int g, Vector512<int> index) =>
        Avx512F.PermuteVar16x32x2(Vector512.Load(x + 4 * g), index, Vector512.Load(x + 4 * g + 16));

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static float DotAvx512(float* v, byte* m, float* x, int groups)
    {
        var acc = Vector512<float>.Zero;
        int g = 0;
        for (; g + 8 <= groups; g += 8)
            acc = Avx512F.FusedMultiplyAdd(Vector512.Load(v + 2 * g), Select512(x, g, Index512(m, g)), acc);
        return Vector512.Sum(acc) + DotScalar(v, m, x, g, groups);
    }

    // x rows x, x + stride, x + 2·stride, x + 3·stride into y, y + yStride, ...
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void DotAvx512x4(float* v, byte* m, float* x, long stride, int groups, float* y, long yStride)
    {
        Vector512<float> acc0 = default, acc1 = default, acc2 = default, acc3 = default;
        float* x1 = x + stride, x2 = x1 + stride, x3 = x2 + stride;
        int g = 0;
        for (; g + 8 <= groups; g += 8)
        {
            var index = Index512(m, g);
            var w = Vector512.Load(v + 2 * g);
            acc0 = Avx512F.FusedMultiplyAdd(w, Select512(x, g, index), acc0);
            acc1 = Avx512F.FusedMultiplyAdd(w, Select512(x1, g, index), acc1);
            acc2 = Avx512F.FusedMultiplyAdd(w, Select512(x2, g, index), acc2);
            acc3 = Avx512F.FusedMultiplyAdd(w, Select512(x3, g, index), acc3);
        }
        y[0] = Vector512.Sum(acc0) + DotScalar(v, m, x, g, groups);
        y[yStride] = Vector512.Sum(acc1) + DotScalar(v, m, x1, g, groups);
        y[2 * yStride] = Vector512.Sum(acc2) + DotScalar(v, m, x2, g, groups);
        y[3 * yStride] = Vector512.Sum(acc3) + DotScalar(v, m, x3, g, groups);
    }

    // 4 groups per step: 8 positions in a 16-bit word select from 16 x elements; vpermps picks within each
    // 8-element half and bit 3 of the index chooses the half.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector256<int> Index256(byte* m, int g) =>
        ((Avx2.ShiftRightLogicalVariable(Vector256.Create((uint)Unsafe.ReadUnaligned<ushort>(m + g / 2)),
            Vector256.Create(0u, 2, 4, 6, 8, 10, 12, 14)) & Vector256.Create(3u)) + Vector256.Create(0u, 0, 4, 4, 8, 8, 12, 12)).AsInt32();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector256<float> Select256(float* x, int g, Vector256<int> index, Vector256<float> high) =>
        Avx.BlendVariable(Avx2.PermuteVar8x32(Vector256.Load(x + 4 * g), index), Avx2.PermuteVar8x32(Vector256.Load(x + 4 * g + 8), index), high);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static float DotAvx2(float* v, byte* m, float* x, int groups)
    {
        var acc = Vector256<float>.Zero;
        int g = 0;
        for (; g + 4 <= groups; g += 4)
        {
            var index = Index256(m, g);
            var high = Avx2.ShiftLeftLogical(index, 28).AsSingle();
            acc = Fma.MultiplyAdd(Vector256.Load(v + 2 * g), Select256(x, g, index, high), acc);
        }
        return Vector256.Sum(acc) + DotScalar(v, m, x, g, groups);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void DotAvx2x4(float* v, byte* m, float* x, long stride, int groups, float* y, long yStride)
    {
        Vector256<float> acc0 = default, acc1 = default, acc2 = default, acc3 = default;
        float* x1 = x + stride, x2 = x1 + stride, x3 = x2 + stride;
        int g = 0;
        for (; g + 4 <= groups; g += 4)
        {
            var index = Index256(m, g);
            var high = Avx2.ShiftLeftLogical(index, 28).AsSingle();
            var w = Vector256.Load(v + 2 * g);
            acc0 = Fma.MultiplyAdd(w, Select256(x, g, index, high), acc0);
            acc1 = Fma.MultiplyAdd(w, Select256(x1, g, index, high), acc1);
            acc2 = Fma.MultiplyAdd(w, Select256(x2, g, index, high), acc2);
            acc3 = Fma.MultiplyAdd(w, Select256(x3, g, index, high), acc3);
        }
        y[0] = Vector256.Sum(acc0) + DotScalar(v, m, x, g, groups);
        y[yStride] = Vector256.Sum(acc1) + DotScalar(v, m, x1, g, groups);
        y[2 * yStride] = Vector256.Sum(acc2) + DotScalar(v, m, x2, g, groups);
        y[3 * yStride] = Vector256.Sum(acc3) + DotScalar(v, m, x3, g, groups);
    }
}
