using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics.X86;

namespace Kit.Inference.Kernels;

/// <summary>
/// y [batch, out] = x [batch, in] · Ŵᵀ for a CPU <see cref="PackedWeight"/> Ŵ, reading the packed codes in
/// place: float32 activations, or activations quantized to int8 per 32-column block (weight-only W4A16/W8A16)
/// or per token (W8A8, int8 weights only) with integer dot products (<see cref="KernelActivations"/>). Output
/// rows are split over the cores; AVX-512, AVX2 + FMA where the CPU has them, a scalar loop otherwise.
/// </summary>
public static unsafe class QuantizedMatmul
{
    /// <summary>
    /// The fewest rows of x for which W8A8 runs the tiled GEMM (<see cref="Int8Gemm"/>) instead of the matrix-vector
    /// kernel, which reads every weight row once per four rows of x.
    /// </summary>
    internal const int GemmRows = 8;

    /// <summary>The instruction set the kernels use on this CPU: "AVX-512", "AVX2" or "scalar", with "+VNNI" where the integer kernels use vpdpbusd.</summary>
    public static string InstructionSet => KernelPaths.Best switch
    {
        KernelPath.Avx512 => AvxVnni.IsSupported ? "AVX-512+VNNI" : "AVX-512",
        KernelPath.Avx2 => "AVX2",
        _ => "scalar",
    };

    /// <summary>
    /// Computes y = x · Ŵᵀ. <paramref name="x"/> holds <paramref name="batch"/> rows of
    /// <see cref="PackedWeight.InFeatures"/> values, <paramref name="y"/> receives batch rows of
    /// <see cref="PackedWeight.OutFeatures"/>. <paramref name="activations"/> says whether x is multiplied in
    /// float32 or quantized to int8 first; <see cref="KernelActivations.Int8PerToken"/> needs int8 weights.
    /// </summary>
    public static void Multiply(PackedWeight weight, ReadOnlySpan<float> x, int batch, Span<float> y, KernelActivations activations = KernelActivations.Float32) =>
        Multiply(weight, x, batch, y, activations, KernelPaths.Best);

    internal static void Multiply(PackedWeight weight, ReadOnlySpan<float> x, int batch, Span<float> y, KernelActivations activations, KernelPath path)
    {
        ArgumentNullException.ThrowIfNull(weight);
        ArgumentOutOfRangeException.ThrowIfNegative(batch);
        if (x.Length != (long)batch * weight.InFeatures)
            throw new ArgumentException($"x: expected {batch} × {weight.InFeatures} values, got {x.Length}", nameof(x));
        if (y.Length != (long)batch * weight.OutFeatures)
            throw new ArgumentException($"y: expected {batch} × {weight.OutFeatures} values, got {y.Length}", nameof(y));
        if (activations == KernelActivations.Int8PerToken && weight.Format != PackedFormat.Int8)
            throw new ArgumentException($"PackedWeight.Format: per-token int8 activations need int8 weights, got {weight.Format}", nameof(activations));
        if (batch == 0) return;
        path = KernelPaths.Clamp(path);
        var view = weight.View();
        var layout = weight.Layout;
        bool gather = layout.ColumnOrder is not null || layout.PaddedColumns != layout.Columns;
        var rented = gather ? ArrayPool<float>.Shared.Rent(batch * layout.PaddedColumns) : null;
        try
        {
            fixed (float* xp = x, yp = y, gathered = rented)
            {
                if (gather) Gather(xp, batch, layout, gathered);
                float* packedX = gather ? gathered : xp;
                if (activations == KernelActivations.Float32) MultiplyFloat(view, weight.Format, packedX, batch, yp, path);
                else if (activations == KernelActivations.Int8PerToken && batch >= GemmRows) MultiplyGemm(weight, view, layout, packedX, batch, yp, path);
                else MultiplyInt8(view, weight.Format, layout, packedX, batch, yp, activations == KernelActivations.Int8PerBlock, path);
            }
        }
        finally
        {
            if (rented is not null) ArrayPool<float>.Shared.Return(rented);
        }
    }

    static void MultiplyFloat(PackedView view, PackedFormat format, float* x, int batch, float* y, KernelPath path)
    {
        nint xa = (nint)x, ya = (nint)y;
        ForRows(view, batch, (start, end) =>
        {
            if (format == PackedFormat.Int4) FloatActivationKernel.Rows<Int4Decoder>(view, (float*)xa, batch, (float*)ya, start, end, path);
            else FloatActivationKernel.Rows<Int8Decoder>(view, (float*)xa, batch, (float*)ya, start, end, path);
        });
    }

    static void MultiplyGemm(PackedWeight weight, PackedView view, PackedLayout layout, float* x, int batch, float* y, KernelPath path)
    {
        int k = layout.PaddedColumns;
        var codes = ArrayPool<byte>.Shared.Rent(batch * k);
        var scales = ArrayPool<float>.Shared.Rent(batch);
        var sums = ArrayPool<int>.Shared.Rent(batch * layout.Groups);
        try
        {
            fixed (byte* q = codes)
            fixed (float* s = scales)
            fixed (int* gs = sums, cs = weight.GroupCodeSums())
            {
                var xq = new TokenActivations(q, s, gs, offset: path == KernelPath.Avx512 && AvxVnni.IsSupported);
                TokenQuantizer.Quantize(x, batch, layout, xq, path);
                Int8Gemm.Multiply(view, cs, xq, batch, y, path);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(codes);
            ArrayPool<float>.Shared.Return(scales);
            ArrayPool<int>.Shared.Return(sums);
        }
    }

    static void MultiplyInt8(PackedView view, PackedFormat format, PackedLayout layout, float* x, int batch, float* y, bool perBlock, KernelPath path)
    {
        var codes = ArrayPool<sbyte>.Shared.Rent(batch * QuantizedActivations.RowCodes(layout.PaddedColumns));
        var scales = ArrayPool<float>.Shared.Rent(batch * QuantizedActivations.RowScales(layout.PaddedColumns));
        var sums = ArrayPool<float>.Shared.Rent(batch * layout.Groups);
        try
        {
            fixed (sbyte* q = codes)
            fixed (float* s = scales, gs = sums)
            {
                var xq = new QuantizedActivations(q, s, gs);
                ActivationQuantizer.Quantize(x, batch, layout, perBlock, xq, path);
                nint ya = (nint)y;
                ForRows(view, batch, (start, end) =>
                {
                    if (format == PackedFormat.Int4) IntegerDotKernel.Rows<Int4Decoder>(view, xq, batch, (float*)ya, start, end, path);
                    else IntegerDotKernel.Rows<Int8Decoder>(view, xq, batch, (float*)ya, start, end, path);
                });
            }
        }
        finally
        {
            ArrayPool<sbyte>.Shared.Return(codes);
            ArrayPool<float>.Shared.Return(scales);
            ArrayPool<float>.Shared.Return(sums);
        }
    }

    static void ForRows(PackedView view, int batch, Action<int, int> rows) =>
        RowChunks.For(view.Rows, (long)view.Rows * view.PaddedColumns * batch, rows);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void Gather(float* x, int batch, PackedLayout layout, float* gathered)
    {
        int columns = layout.Columns, k = layout.PaddedColumns;
        for (int b = 0; b < batch; b++)
        {
            float* src = x + (long)b * columns, dst = gathered + (long)b * k;
            if (layout.ColumnOrder is { } order)
                for (int p = 0; p < k; p++) dst[p] = order[p] < 0 ? 0 : src[order[p]];
            else
            {
                new ReadOnlySpan<float>(src, columns).CopyTo(new Span<float>(dst, k));
                new Span<float>(dst + columns, k - columns).Clear();
            }
        }
    }
}
