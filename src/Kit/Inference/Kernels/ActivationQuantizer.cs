using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Kit.Inference.Kernels;

/// <summary>
/// x quantized to int8 for <see cref="IntegerDotKernel"/>, per row of x: codes of blocks paired as the int4
/// nibbles pair them (for blocks 2p and 2p + 1: columns 0–15 of each, then columns 16–31 of each), one scale per
/// block repeated four times (the int32 lanes that block's products land in), and per group Σ scale · q, which
/// zero points multiply. A row of an odd count of blocks ends with a pair half zero.
/// </summary>
internal readonly unsafe struct QuantizedActivations(sbyte* codes, float* scales, float* groupSums)
{
    /// <summary>Codes [batch, <see cref="RowCodes"/>].</summary>
    public readonly sbyte* Codes = codes;
    /// <summary>Scales [batch, <see cref="RowScales"/>], each block's four times.</summary>
    public readonly float* Scales = scales;
    /// <summary>Σ scale · q per group [batch, groups].</summary>
    public readonly float* GroupSums = groupSums;

    /// <summary>Codes per row for <paramref name="paddedColumns"/> packed columns: whole pairs of blocks.</summary>
    public static int RowCodes(int paddedColumns) => (paddedColumns + 2 * PackedLayout.BlockColumns - 1) / (2 * PackedLayout.BlockColumns) * 2 * PackedLayout.BlockColumns;

    /// <summary>Scales per row: four per block of <see cref="RowCodes"/>.</summary>
    public static int RowScales(int paddedColumns) => RowCodes(paddedColumns) / PackedLayout.BlockColumns * 4;

    /// <summary>Where code <paramref name="column"/> (a packed column) of a row sits.</summary>
    public static int CodeIndex(int column)
    {
        int block = column / PackedLayout.BlockColumns, c = column % PackedLayout.BlockColumns;
        return block / 2 * 64 + c / 16 * 32 + block % 2 * 16 + c % 16;
    }
}

/// <summary>
/// Dynamic int8 quantization of activations, per token (W8A8's "int8-dynamic-token") or per 32-column block
/// (llama.cpp's Q8_0): scale = absmax / 127 over the token or block and codes q = clamp(round(x / scale), −127, 127),
/// rounding half to even as <c>torch.round</c> does. A zero token or block gets scale 0 and codes 0.
/// </summary>
internal static unsafe class ActivationQuantizer
{
    /// <summary>
    /// Quantizes x [batch, layout.PaddedColumns], already in packed column order with zero padding, into
    /// <paramref name="output"/>.
    /// </summary>
    public static void Quantize(float* x, int batch, PackedLayout layout, bool perBlock, in QuantizedActivations output, KernelPath path)
    {
        nint xa = (nint)x;
        var o = output;
        // Prefill quantizes hundreds of rows per call: spread them over the cores like the products.
        RowChunks.For(batch, (long)batch * layout.PaddedColumns * 4, (start, end) => Rows((float*)xa, start, end, layout, perBlock, o, path));
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void Rows(float* x, int start, int end, PackedLayout layout, bool perBlock, in QuantizedActivations output, KernelPath path)
    {
        const int width = PackedLayout.BlockColumns;
        int k = layout.PaddedColumns, blocks = k / width;
        int rowCodes = QuantizedActivations.RowCodes(k), rowScales = QuantizedActivations.RowScales(k);
        for (int b = start; b < end; b++)
        {
            float* xb = x + (long)b * k;
            sbyte* qb = output.Codes + (long)b * rowCodes;
            float* scales = output.Scales + (long)b * rowScales;
            float tokenScale = perBlock ? 0 : AbsMax(xb, k, path) / 127f;
            for (int g = 0; g < layout.Groups; g++)
            {
                // Each block's scale · Σ q is exact in float64 (24 by 13 bits); the group's sum rounds once to float32.
                double groupSum = 0;
                for (int block = layout.GroupBlocks[g]; block < layout.GroupBlocks[g + 1]; block++)
                {
                    int at = block * width;
                    float scale = perBlock ? AbsMax(xb + at, width, path) / 127f : tokenScale;
                    new Span<float>(scales + 4 * block, 4).Fill(scale);
                    groupSum += (double)scale * Block(xb + at, qb + QuantizedActivations.CodeIndex(at), scale, path);
                }
                output.GroupSums[(long)b * layout.Groups + g] = (float)groupSum;
            }
            if (blocks % 2 == 0) continue;
            // The missing second half of the last pair: zero codes, zero scales.
            new Span<float>(scales + 4 * blocks, 4).Clear();
            for (int half = 0; half < 2; half++) new Span<sbyte>(qb + QuantizedActivations.CodeIndex(blocks * width) + half * 32, 16).Clear();
        }
    }

    // Codes of 32 values, the first 16 at q and the last 16 at q + 32; returns their sum. Dividing (not multiplying
    // by 127 / absmax) keeps the codes those of the definition; |x| ≤ absmax bounds every quotient by 127 up to
    // one rounding, so narrowing is exact.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static int Block(float* x, sbyte* q, float scale, KernelPath path)
    {
        // A zero block divides by 1 instead of 0: its codes are 0 either way.
        float divisor = scale == 0 ? 1 : scale;
        if (path == KernelPath.Scalar)
        {
            int sum = 0;
            for (int j = 0; j < PackedLayout.BlockColumns; j++) sum += q[j / 16 * 32 + j % 16] = (sbyte)Math.Clamp(MathF.Round(x[j] / divisor), -127f, 127f);
            return sum;
        }
        var d = Vector256.Create(divisor);
        var c0 = Avx.ConvertToVector256Int32(Avx.RoundToNearestInteger(Avx.Divide(Avx.LoadVector256(x), d)));
        var c1 = Avx.ConvertToVector256Int32(Avx.RoundToNearestInteger(Avx.Divide(Avx.LoadVector256(x + 8), d)));
        var c2 = Avx.ConvertToVector256Int32(Avx.RoundToNearestInteger(Avx.Divide(Avx.LoadVector256(x + 16), d)));
        var c3 = Avx.ConvertToVector256Int32(Avx.RoundToNearestInteger(Avx.Divide(Avx.LoadVector256(x + 24), d)));
        var codes = Vector256.Narrow(Vector256.Narrow(c0, c1), Vector256.Narrow(c2, c3));
        codes.GetLower().Store(q);
        codes.GetUpper().Store(q + 32);
        return Vector256.Sum((c0 + c1) + (c2 + c3));
    }

    // count is a multiple of 32.
    static float AbsMax(float* x, int count, KernelPath path)
    {
        float max = 0;
        if (path == KernelPath.Scalar)
        {
            for (int j = 0; j < count; j++) max = MathF.Max(max, MathF.Abs(x[j]));
            return max;
        }
        Vector256<float> m = default;
        for (int j = 0; j < count; j += PackedLayout.BlockColumns)
            m = Avx.Max(m, Avx.Max(Avx.Max(Vector256.Abs(Avx.LoadVector256(x + j)), Vector256.Abs(Avx.LoadVector256(x + j + 8))),
                Avx.Max(Vector256.Abs(Avx.LoadVector256(x + j + 16)), Vector256.Abs(Avx.LoadVector256(x + j + 24)))));
        for (int i = 0; i < Vector256<float>.Count; i++) max = MathF.Max(max, m.GetElement(i));
        return max;
    }
}
