using System.Buffers.Binary;
using Kit.Quantization;
using Kit.Runtime;
using static TorchSharp.torch;

namespace Kit.Formats.Gguf;

/// <summary>Q4_0, Q4_1 or Q8_0 blocks written straight from a weight's codes and grids.</summary>
/// <param name="Type">Q4_0 for symmetric grids of at most 4 bits, Q4_1 for asymmetric ones, Q8_0 for symmetric 5 to 8 bits.</param>
/// <param name="Bytes">The blocks, row by row.</param>
/// <param name="MaxDeviation">
/// The largest |stored value − (code − zero point)·scale|: 0 when every scale is fp16-exact and, for Q4_1,
/// every offset m = −(zero point + 8)·d is too.
/// </param>
/// <param name="RoundedOffsets">Q4_1 blocks whose offset m is not an fp16 value and was rounded to the nearest one.</param>
public sealed record GgmlBlockEncoding(GgmlType Type, byte[] Bytes, double MaxDeviation, int RoundedOffsets = 0);

/// <summary>
/// Maps a <see cref="QuantizedWeight"/> onto ggml blocks without requantizing, when its grid is one of
/// theirs. Q4_0 stores (nibble − 8)·d and Q8_0 qs·d, so a symmetric integer grid s·q (q ∈ [−2^(b−1), 2^(b−1)−1],
/// zero point 0) is nibble = q + 8 or qs = q with d = s. Q4_1 stores nibble·d + m, so an asymmetric grid
/// s·(q − z) of at most 4 bits is nibble = q + 8 with d = s and m = −(z + 8)·s (Kit's codes and zero points
/// are signed; z + 8 is the zero point on codes 0…15). Either way each run of 32 input columns must share one
/// grid: groups of 32 or a multiple of 32 along contiguous columns (g128 repeats one d in four blocks),
/// per-channel or per-tensor grids, and in_features a multiple of 32. The only losses are rounding d, and
/// Q4_1's m, to fp16: (z + 8)·d needs up to 15 significant bits and fp16 has 11, so m can move a block's
/// values by up to half an fp16 ulp of m, which the encoding counts and measures. Scales that fp16 cannot
/// hold as normal numbers (below 2^−14, where fp16 loses precision, or above 65504) are refused.
/// </summary>
public static class QuantizedWeightBlocks
{
    /// <summary>The smallest normal fp16 value, 2^−14: below it fp16 keeps fewer than 11 significant bits.</summary>
    public const float MinNormalHalf = 6.103515625e-05f;

    /// <summary>The block type an integer grid of <paramref name="args"/> maps onto, or null.</summary>
    public static GgmlType? TargetType(QuantizationArgs args) =>
        args.Type != QuantizationType.Int ? null
        : args.NumBits <= 4 ? (args.Symmetric ? GgmlType.Q4_0 : GgmlType.Q4_1)
        : args.NumBits <= 8 && args.Symmetric ? GgmlType.Q8_0 : null;

    /// <summary>
    /// Why <paramref name="weight"/> does not map exactly onto blocks, or null when it does. The checks are the
    /// conditions for a lossless mapping: an integer grid (symmetric with all zero points 0, or asymmetric of at
    /// most 4 bits), in_features a multiple of 32 and one grid per run of 32 columns. Scales are checked by
    /// <see cref="CheckScales"/>, which refuses rather than falls back.
    /// </summary>
    public static string? WhyNotExact(QuantizedWeight weight)
    {
        var args = weight.Args;
        if (TargetType(args) is null)
            return args.Type == QuantizationType.Int && !args.Symmetric
                ? $"an asymmetric {args.NumBits}-bit grid has no ggml block (Q8_0 has no zero point; Q4_1 holds at most 4 bits)"
                : $"a {args.Type} grid of {args.NumBits} bits is not Q4_0's, Q4_1's or Q8_0's";
        using var scope = NewDisposeScope();
        if (args.Symmetric && weight.ZeroPoint.ne(HeldScalars.Of(0)).any().item<bool>()) return "some zero points are not 0";
        long columns = weight.Codes.shape[1];
        if (columns % GgmlQuants.BlockElements != 0) return $"in_features {columns} is not a multiple of 32";
        if (weight.Scale.shape[1] > 1)
        {
            var groups = weight.GIdx.to(CPU).to_type(ScalarType.Int32).reshape(-1, GgmlQuants.BlockElements);
            if (groups.ne(groups[.., ..1]).any().item<bool>())
                return "a run of 32 input columns spans two groups (group size not a multiple of 32, or act-order g_idx)";
        }
        return null;
    }

    /// <summary>
    /// Throws unless every block of <paramref name="weight"/> (one that <see cref="WhyNotExact"/> accepts) can
    /// store its scale as a normal fp16 d (and, for Q4_1, its offset m as a finite fp16). Blocks whose values
    /// are all 0 (every code at the zero point) are exempt: they are stored with d = m = 0.
    /// </summary>
    /// <param name="weight">The weight, rows in the order its owner knows them.</param>
    /// <param name="name">The tensor's name for the error (<c>model.layers.0.mlp.up_proj.weight</c>).</param>
    /// <exception cref="ArgumentException">
    /// A scale is an fp16 subnormal, zero, overflows or is not finite (the message names the tensor, row, group and
    /// value); or the weight does not map onto blocks at all.
    /// </exception>
    public static void CheckScales(QuantizedWeight weight, string name)
    {
        if (WhyNotExact(weight) is { } why) throw new ArgumentException($"{name}: {why}, so it has no blocks whose scales to check", nameof(weight));
        Check(BlockGrid.Of(weight), TargetType(weight.Args)!.Value, name);
    }

    static void Check(BlockGrid grid, GgmlType type, string name)
    {
        for (long block = 0; block < grid.Scales.LongLength; block++)
        {
            if (!grid.HasValues(block)) continue;
            float s = grid.Scales[block];
            string? problem = ScaleProblem(s, grid.ZeroPoints[block], type);
            if (problem is not null)
                throw new ArgumentException($"{name}: the scale {s:R} of row {block / grid.BlocksPerRow}, group {grid.Groups[block % grid.BlocksPerRow]} " +
                    $"{problem}; {type} stores its scale d{(type == GgmlType.Q4_1 ? " and offset m" : "")} as fp16, which keeps 11 significant " +
                    $"bits only from {MinNormalHalf:R} to 65504, and Kit refuses to write a scale that lost precision or range " +
                    "(quantize with scales in that range, or leave this module's codes out of the export)", "weight");
        }
    }

    /// <summary>
    /// The blocks of <paramref name="weight"/> [out, in] in its row order, or null when <see cref="WhyNotExact"/> gives a reason.
    /// </summary>
    /// <exception cref="ArgumentException">See <see cref="CheckScales"/>; or codes or zero points outside the 4-bit range of Q4_0/Q4_1.</exception>
    public static GgmlBlockEncoding? Encode(QuantizedWeight weight, string name = "weight")
    {
        if (WhyNotExact(weight) is not null) return null;
        var type = TargetType(weight.Args)!.Value;
        var grid = BlockGrid.Of(weight);
        Check(grid, type, name);
        if (type != GgmlType.Q8_0 && (grid.Codes.Any(c => c is < -8 or > 7) || grid.ZeroPoints.Any(z => z is < -8 or > 7)))
            throw new ArgumentException($"{name}: codes or zero points of a {weight.Args.NumBits}-bit grid lie outside [-8, 7], the range of {type}'s nibbles", nameof(weight));
        const int n = GgmlQuants.BlockElements, half = n / 2;
        int blockBytes = GgmlQuants.BytesPerBlock(type);
        var bytes = new byte[grid.Scales.LongLength * blockBytes];
        double deviation = 0;
        int roundedOffsets = 0;
        for (long block = 0; block < grid.Scales.LongLength; block++)
        {
            float s = grid.Scales[block];
            int z = grid.ZeroPoints[block];
            // A block of zeros needs no scale; d = 0 keeps one that fp16 cannot hold out of the file.
            var d = grid.HasValues(block) ? (Half)s : (Half)0;
            var output = bytes.AsSpan((int)(block * blockBytes), blockBytes);
            var q = grid.Codes.AsSpan((int)(block * n), n);
            BinaryPrimitives.WriteHalfLittleEndian(output, d);
            if (type == GgmlType.Q4_1)
            {
                // m = −(z + 8)·d is exact in float32 (at most 4 + 11 significant bits); fp16 may have to round it.
                float m = -(z + 8) * (float)d;
                var mh = (Half)m;
                if ((float)mh != m) roundedOffsets++;
                BinaryPrimitives.WriteHalfLittleEndian(output[2..], mh);
                for (int j = 0; j < n; j++)
                {
                    // The value ggml's dequantize_row_q4_1 computes, against the exact (code − zero point)·scale.
                    float stored = (q[j] + 8) * (float)d + (float)mh;
                    deviation = Math.Max(deviation, Math.Abs(stored - (double)(q[j] - z) * s));
                }
                for (int j = 0; j < half; j++) output[4 + j] = (byte)((q[j] + 8) | ((q[j + half] + 8) << 4));
                continue;
            }
            int blockMax = 0;
            foreach (sbyte c in q) blockMax = Math.Max(blockMax, Math.Abs((int)c));
            deviation = Math.Max(deviation, blockMax * Math.Abs((double)(float)d - s));
            if (type == GgmlType.Q8_0)
                for (int j = 0; j < n; j++) output[2 + j] = (byte)q[j];
            else
                for (int j = 0; j < half; j++) output[2 + j] = (byte)((q[j] + 8) | ((q[j + half] + 8) << 4));
        }
        return new GgmlBlockEncoding(type, bytes, deviation, roundedOffsets);
    }

    /// <summary>Why fp16 cannot hold scale <paramref name="s"/> (and Q4_1's offset from it), or null when it can.</summary>
    static string? ScaleProblem(float s, int zeroPoint, GgmlType type)
    {
        if (!float.IsFinite(s)) return "is not finite";
        var d = (Half)s;
        if (Half.IsInfinity(d)) return "overflows fp16";
        if (Math.Abs((float)d) < MinNormalHalf) return $"becomes {(float)d:R} in fp16, {(d == (Half)0 ? "zero" : "a subnormal")}";
        if (type == GgmlType.Q4_1 && Half.IsInfinity((Half)(-(zeroPoint + 8) * (float)d)))
            return $"with zero point {zeroPoint} gives Q4_1's m = {-(zeroPoint + 8) * (double)(float)d:R}, which overflows fp16";
        return null;
    }

    /// <summary>A weight cut into blocks of 32 columns, each with the scale and zero point of its (single) group.</summary>
    sealed record BlockGrid(int BlocksPerRow, sbyte[] Codes, float[] Scales, int[] ZeroPoints, int[] Groups)
    {
        public static BlockGrid Of(QuantizedWeight weight)
        {
            using var scope = NewDisposeScope();
            long rows = weight.Codes.shape[0], columns = weight.Codes.shape[1];
            int blocksPerRow = (int)(columns / GgmlQuants.BlockElements);
            var codes = weight.Codes.to(CPU).to_type(ScalarType.Int8).contiguous().data<sbyte>().ToArray();
            var index = weight.GIdx.to(CPU).to_type(ScalarType.Int64).reshape(-1, GgmlQuants.BlockElements)[.., 0];
            bool perGroup = weight.Scale.shape[1] > 1;
            // Per-channel and per-tensor grids broadcast; grouped ones pick the group of each block's first column.
            Tensor PerBlock(Tensor t) =>
                (perGroup ? t.index_select(1, index) : t.expand(t.shape[0], blocksPerRow)).expand(rows, blocksPerRow).contiguous();
            var scales = PerBlock(weight.Scale.to(CPU).to_type(ScalarType.Float32)).data<float>().ToArray();
            var zeros = PerBlock(weight.ZeroPoint.to(CPU).to_type(ScalarType.Int32)).data<int>().ToArray();
            var groups = perGroup ? index.to_type(ScalarType.Int32).data<int>().ToArray() : new int[blocksPerRow];
            return new BlockGrid(blocksPerRow, codes, scales, zeros, groups);
        }

        /// <summary>Whether some value of the block is not 0: a nonzero scale and a code off the zero point.</summary>
        public bool HasValues(long block)
        {
            if (Scales[block] == 0) return false;
            foreach (sbyte c in Codes.AsSpan((int)(block * GgmlQuants.BlockElements), GgmlQuants.BlockElements))
                if (c != ZeroPoints[block]) return true;
            return false;
        }
    }
}
