using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Kit.Inference.Kernels;

/// <summary>
/// x quantized to int8 per token for <see cref="Int8Gemm"/>: codes [batch, padded columns] in packed column
/// order, one scale per row and per row and group the sum of the codes (what zero points multiply). For
/// vpdpbusd (unsigned × signed) the codes are stored as q + 128 (<see cref="Offset"/>), so that the int8 weights
/// stay the signed operand; the kernel takes 128 · Σ w back out.
/// </summary>
internal readonly unsafe struct TokenActivations(byte* codes, float* scales, int* groupSums, bool offset)
{
    /// <summary>Codes [batch, padded columns]: q + 128 when <see cref="Offset"/>, else q as a signed byte.</summary>
    public readonly byte* Codes = codes;
    /// <summary>Scale per row: absmax / 127.</summary>
    public readonly float* Scales = scales;
    /// <summary>Σ q per row and group [batch, groups].</summary>
    public readonly int* GroupSums = groupSums;
    /// <summary>Whether the codes carry +128.</summary>
    public readonly bool Offset = offset;
}

/// <summary>
/// W8A8's dynamic per-token activation quantization for the many-row GEMM, with the definition of
/// <see cref="ActivationQuantizer"/> (scale = absmax / 127, q = clamp(round_half_even(x / scale), −127, 127), a zero
/// row gets scale 0 and codes 0) but the codes in plain column order. Rows are spread over the cores.
/// </summary>
internal static unsafe class TokenQuantizer
{
    /// <summary>Quantizes x [batch, layout.PaddedColumns], already in packed column order with zero padding.</summary>
    public static void Quantize(float* x, int batch, PackedLayout layout, in TokenActivations output, KernelPath path)
    {
        nint xa = (nint)x;
        var o = output;
        RowChunks.For(batch, (long)batch * layout.PaddedColumns * 4, (start, end) =>
        {
            for (int b = start; b < end; b++) Row((float*)xa, b, layout, o, path);
        });
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void Row(float* x, int b, PackedLayout layout, in TokenActivations output, KernelPath path)
    {
        const int width = PackedLayout.BlockColumns;
        int k = layout.PaddedColumns;
        float* xb = x + (long)b * k;
        byte* qb = output.Codes + (long)b * k;
        float absMax = 0;
        if (path == KernelPath.Scalar)
            for (int j = 0; j < k; j++) absMax = MathF.Max(absMax, MathF.Abs(xb[j]));
        else
        {
            var m = Vector256<float>.Zero;
            for (int j = 0; j < k; j += 8) m = Avx.Max(m, Vector256.Abs(Avx.LoadVector256(xb + j)));
            for (int i = 0; i < Vector256<float>.Count; i++) absMax = MathF.Max(absMax, m.GetElement(i));
        }
        float scale = absMax / 127f;
        output.Scales[b] = scale;
        // A zero row divides by 1 instead of 0: its codes are 0 either way.
        float divisor = scale == 0 ? 1 : scale;
        byte offset = output.Offset ? (byte)128 : (byte)0;
        int* sums = output.GroupSums + (long)b * layout.Groups;
        for (int g = 0; g < layout.Groups; g++)
        {
            int sum = 0;
            for (int at = layout.GroupBlocks[g] * width; at < layout.GroupBlocks[g + 1] * width; at += width)
            {
                if (path == KernelPath.Scalar)
                {
                    for (int j = at; j < at + width; j++)
                    {
                        int q = (int)Math.Clamp(MathF.Round(xb[j] / divisor), -127f, 127f);
                        qb[j] = (byte)(q + offset);
                        sum += q;
                    }
                    continue;
                }
                // |x| ≤ absmax bounds every quotient by 127 up to one rounding, so the narrowing is exact.
                var d = Vector256.Create(divisor);
                var c0 = Avx.ConvertToVector256Int32(Avx.RoundToNearestInteger(Avx.Divide(Avx.LoadVector256(xb + at), d)));
                var c1 = Avx.ConvertToVector256Int32(Avx.RoundToNearestInteger(Avx.Divide(Avx.LoadVector256(xb + at + 8), d)));
                var c2 = Avx.ConvertToVector256Int32(Avx.RoundToNearestInteger(Avx.Divide(Avx.LoadVector256(xb + at + 16), d)));
                var c3 = Avx.ConvertToVector256Int32(Avx.RoundToNearestInteger(Avx.Divide(Avx.LoadVector256(xb + at + 24), d)));
                var codes = Vector256.Narrow(Vector256.Narrow(c0, c1), Vector256.Narrow(c2, c3)).AsByte();
                (codes + Vector256.Create(offset)).Store(qb + at);
                sum += Vector256.Sum((c0 + c1) + (c2 + c3));
            }
            sums[g] = sum;
        }
    }
}
