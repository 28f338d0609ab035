using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Kit.Inference.Kernels;

/// <summary>
/// Per-token dynamic int8 quantization of activations (W8A8's "int8-dynamic-token"): each row of x gets
/// scale = absmax / 127 and codes q = clamp(round(x / scale), −127, 127), rounding half to even as
/// <c>torch.round</c> does. A row of zeros gets scale 0 and codes 0.
/// </summary>
internal static unsafe class ActivationQuantizer
{
    /// <summary>
    /// Quantizes x [batch, columns] into q [batch, layout.PaddedColumns] in packed column order (padding 0)
    /// and scales [batch]; when <paramref name="groupSums"/> is given, also Σ q over each group [batch, groups].
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Quantize(float* x, int batch, PackedLayout layout, sbyte* q, float* scales, int* groupSums, KernelPath path)
    {
        int columns = layout.Columns, k = layout.PaddedColumns;
        for (int b = 0; b < batch; b++)
        {
            float* xb = x + (long)b * columns;
            sbyte* qb = q + (long)b * k;
            float absMax = 0;
            for (int j = 0; j < columns; j++) absMax = MathF.Max(absMax, MathF.Abs(xb[j]));
            float scale = absMax / 127f;
            scales[b] = scale;
            // A zero row divides by 1 instead of 0: its codes are 0 either way.
            float divisor = scale == 0 ? 1 : scale;
            if (layout.ColumnOrder is { } order)
            {
                for (int p = 0; p < k; p++) qb[p] = order[p] < 0 ? (sbyte)0 : Code(xb[order[p]], divisor);
            }
            else
            {
                int j = 0;
                if (path != KernelPath.Scalar)
                    for (; j + 8 <= columns; j += 8)
                    {
                        // |x| ≤ absmax makes every quotient at most 127 (plus rounding), so narrowing is exact.
                        var codes = Avx.ConvertToVector256Int32(Avx.RoundToNearestInteger(Avx.Divide(Avx.LoadVector256(xb + j), Vector256.Create(divisor))));
                        var shorts = Vector256.Narrow(codes, codes);
                        *(long*)(qb + j) = Vector256.Narrow(shorts, shorts).AsInt64().ToScalar();
                    }
                for (; j < columns; j++) qb[j] = Code(xb[j], divisor);
                for (; j < k; j++) qb[j] = 0;
            }
            if (groupSums == null) continue;
            for (int g = 0; g < layout.Groups; g++)
            {
                int sum = 0;
                for (int p = layout.GroupBlocks[g] * PackedLayout.BlockColumns; p < layout.GroupBlocks[g + 1] * PackedLayout.BlockColumns; p++) sum += qb[p];
                groupSums[(long)b * layout.Groups + g] = sum;
            }
        }
    }

    static sbyte Code(float x, float divisor) => (sbyte)Math.Clamp(MathF.Round(x / divisor), -127f, 127f);
}
