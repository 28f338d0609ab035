using System.Buffers;
using System.Runtime.CompilerServices;

namespace Kit.Inference.Kernels;

/// <summary>
/// y [batch, out] = x [batch, in] · Ŵᵀ for a CPU <see cref="PackedWeight"/> Ŵ, reading the packed codes in
/// place: float32 activations (weight-only W4A16/W8A16), or per-token int8 activations with int32
/// accumulation (W8A8, int8 weights only). Output rows are split over the cores; AVX2 + FMA where the CPU
/// has them, a scalar loop otherwise.
/// </summary>
public static unsafe class QuantizedMatmul
{
    // Below this many multiply-adds a call finishes before a second thread would start.
    const long ParallelThreshold = 1L << 18;

    /// <summary>The instruction set the kernels use on this CPU: "AVX-512", "AVX2" or "scalar".</summary>
    public static string InstructionSet => KernelPaths.Best switch
    {
        KernelPath.Avx512 => "AVX-512",
        KernelPath.Avx2 => "AVX2",
        _ => "scalar",
    };

    /// <summary>
    /// Computes y = x · Ŵᵀ. <paramref name="x"/> holds <paramref name="batch"/> rows of
    /// <see cref="PackedWeight.InFeatures"/> values, <paramref name="y"/> receives batch rows of
    /// <see cref="PackedWeight.OutFeatures"/>. With <paramref name="quantizeActivations"/> each x row is
    /// quantized to int8 (scale = absmax / 127) and multiplied in integers (W8A8).
    /// </summary>
    public static void Multiply(PackedWeight weight, ReadOnlySpan<float> x, int batch, Span<float> y, bool quantizeActivations = false) =>
        Multiply(weight, x, batch, y, quantizeActivations, KernelPaths.Best);

    internal static void Multiply(PackedWeight weight, ReadOnlySpan<float> x, int batch, Span<float> y, bool quantizeActivations, KernelPath path)
    {
        ArgumentNullException.ThrowIfNull(weight);
        ArgumentOutOfRangeException.ThrowIfNegative(batch);
        if (x.Length != (long)batch * weight.InFeatures)
            throw new ArgumentException($"x: expected {batch} × {weight.InFeatures} values, got {x.Length}", nameof(x));
        if (y.Length != (long)batch * weight.OutFeatures)
            throw new ArgumentException($"y: expected {batch} × {weight.OutFeatures} values, got {y.Length}", nameof(y));
        if (quantizeActivations && weight.Format != PackedFormat.Int8)
            throw new ArgumentException($"PackedWeight.Format: int8 activations need int8 weights, got {weight.Format}", nameof(quantizeActivations));
        if (batch == 0) return;
        path = KernelPaths.Clamp(path);
        var view = weight.View();
        var layout = weight.Layout;
        fixed (float* xp = x, yp = y)
        {
            if (quantizeActivations) MultiplyInt8(view, layout, xp, batch, yp, path);
            else MultiplyFloat(view, layout, weight.Format, xp, batch, yp, path);
        }
    }

    static void MultiplyFloat(PackedView view, PackedLayout layout, PackedFormat format, float* x, int batch, float* y, KernelPath path)
    {
        if (layout.ColumnOrder is null && layout.PaddedColumns == layout.Columns)
        {
            RunFloat(view, format, x, batch, y, path);
            return;
        }
        var rented = ArrayPool<float>.Shared.Rent(batch * layout.PaddedColumns);
        try
        {
            fixed (float* gathered = rented)
            {
                Gather(x, batch, layout, gathered);
                RunFloat(view, format, gathered, batch, y, path);
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(rented);
        }
    }

    static void RunFloat(PackedView view, PackedFormat format, float* x, int batch, float* y, KernelPath path)
    {
        nint xa = (nint)x, ya = (nint)y;
        ForRows(view, batch, (start, end) =>
        {
            if (format == PackedFormat.Int4) FloatActivationKernel.Rows<Int4Decoder>(view, (float*)xa, batch, (float*)ya, start, end, path);
            else FloatActivationKernel.Rows<Int8Decoder>(view, (float*)xa, batch, (float*)ya, start, end, path);
        });
    }

    static void MultiplyInt8(PackedView view, PackedLayout layout, float* x, int batch, float* y, KernelPath path)
    {
        var codes = ArrayPool<sbyte>.Shared.Rent(batch * layout.PaddedColumns);
        var scales = ArrayPool<float>.Shared.Rent(batch);
        var sums = view.Zero == null ? null : ArrayPool<int>.Shared.Rent(batch * layout.Groups);
        try
        {
            fixed (sbyte* q = codes)
            fixed (float* s = scales)
            fixed (int* gs = sums)
            {
                ActivationQuantizer.Quantize(x, batch, layout, q, s, gs, path);
                nint qa = (nint)q, sa = (nint)s, ga = (nint)gs, ya = (nint)y;
                ForRows(view, batch, (start, end) =>
                    Int8ActivationKernel.Rows(view, (sbyte*)qa, (float*)sa, (int*)ga, batch, (float*)ya, start, end, path));
            }
        }
        finally
        {
            ArrayPool<sbyte>.Shared.Return(codes);
            ArrayPool<float>.Shared.Return(scales);
            if (sums is not null) ArrayPool<int>.Shared.Return(sums);
        }
    }

    // Contiguous row ranges, a few per core so that a core slowed by another process does not hold up the call.
    static void ForRows(PackedView view, int batch, Action<int, int> rows)
    {
        int cores = Environment.ProcessorCount;
        long work = (long)view.Rows * view.PaddedColumns * batch;
        if (cores == 1 || work < ParallelThreshold)
        {
            rows(0, view.Rows);
            return;
        }
        int chunks = Math.Min(cores * 4, Math.Max(1, view.Rows / 16));
        Parallel.For(0, chunks, new ParallelOptions { MaxDegreeOfParallelism = cores }, c =>
            rows((int)((long)view.Rows * c / chunks), (int)((long)view.Rows * (c + 1) / chunks)));
    }

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
