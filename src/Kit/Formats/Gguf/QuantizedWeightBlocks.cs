using System.Buffers.Binary;
using Kit.Quantization;
using static TorchSharp.torch;

namespace Kit.Formats.Gguf;

/// <summary>Q4_0 or Q8_0 blocks written straight from a weight's codes and scales.</summary>
/// <param name="Type">Q4_0 for grids of at most 4 bits, Q8_0 for 5 to 8 bits.</param>
/// <param name="Bytes">The blocks, row by row.</param>
/// <param name="MaxDeviation">The largest |code·fp16(scale) − code·scale|: 0 when every scale is fp16-exact.</param>
public sealed record GgmlBlockEncoding(GgmlType Type, byte[] Bytes, double MaxDeviation);

/// <summary>
/// Maps a <see cref="QuantizedWeight"/> onto Q4_0/Q8_0 blocks without requantizing, when its grid is one of
/// theirs. Q4_0 stores (nibble − 8)·d and Q8_0 qs·d, so a symmetric integer grid s·q (q ∈ [−2^(b−1), 2^(b−1)−1],
/// zero point 0) is nibble = q + 8 or qs = q with d = s, as long as each run of 32 input columns shares
/// one scale: groups of 32 or a multiple of 32 along contiguous columns (g128 repeats one d in four
/// blocks), per-channel or per-tensor scales, and in_features a multiple of 32. The only loss is rounding
/// d to fp16.
/// </summary>
public static class QuantizedWeightBlocks
{
    /// <summary>The block type a symmetric integer grid of <paramref name="args"/> maps onto, or null.</summary>
    public static GgmlType? TargetType(QuantizationArgs args) =>
        args.Type != QuantizationType.Int ? null : args.NumBits <= 4 ? GgmlType.Q4_0 : args.NumBits <= 8 ? GgmlType.Q8_0 : null;

    /// <summary>
    /// Why <paramref name="weight"/> does not map exactly onto blocks, or null when it does. The checks are the
    /// conditions for a lossless mapping: symmetric integer grid, all zero points 0, in_features a multiple of
    /// 32, one scale per run of 32 columns, and scales that are finite in fp16.
    /// </summary>
    public static string? WhyNotExact(QuantizedWeight weight)
    {
        var args = weight.Args;
        if (TargetType(args) is null) return $"a {args.Type} grid of {args.NumBits} bits is not Q4_0's or Q8_0's";
        if (!args.Symmetric) return "the grid is asymmetric (Q4_0 and Q8_0 have no zero point; it would map onto Q4_1)";
        using var scope = NewDisposeScope();
        if (weight.ZeroPoint.ne(0).any().item<bool>()) return "some zero points are not 0";
        long columns = weight.Codes.shape[1];
        if (columns % GgmlQuants.BlockElements != 0) return $"in_features {columns} is not a multiple of 32";
        if (weight.Scale.shape[1] > 1)
        {
            var groups = weight.GIdx.to(CPU).to_type(ScalarType.Int32).reshape(-1, GgmlQuants.BlockElements);
            if (groups.ne(groups[.., ..1]).any().item<bool>())
                return "a run of 32 input columns spans two groups (group size not a multiple of 32, or act-order g_idx)";
        }
        var scale = weight.Scale.to(CPU).to_type(ScalarType.Float32);
        var half = scale.to_type(ScalarType.Float16).to_type(ScalarType.Float32);
        if (!half.isfinite().all().item<bool>()) return "a scale overflows fp16";
        return null;
    }

    /// <summary>
    /// The blocks of <paramref name="weight"/> [out, in] in its row order, or null when <see cref="WhyNotExact"/> gives a reason.
    /// </summary>
    public static GgmlBlockEncoding? Encode(QuantizedWeight weight)
    {
        if (WhyNotExact(weight) is not null) return null;
        var type = TargetType(weight.Args)!.Value;
        using var scope = NewDisposeScope();
        long rows = weight.Codes.shape[0], columns = weight.Codes.shape[1];
        int blocksPerRow = (int)(columns / GgmlQuants.BlockElements);
        var codes = weight.Codes.to(CPU).to_type(ScalarType.Int8).contiguous().data<sbyte>().ToArray();
        // One scale per block: the scale of the block's (single) group, broadcast for per-channel and per-tensor grids.
        var index = weight.GIdx.to(CPU).to_type(ScalarType.Int64).reshape(-1, GgmlQuants.BlockElements)[.., 0];
        var scale = weight.Scale.to(CPU).to_type(ScalarType.Float32);
        var blockScale = scale.shape[1] == 1 ? scale.expand(scale.shape[0], blocksPerRow) : scale.index_select(1, index);
        var scales = blockScale.expand(rows, blocksPerRow).contiguous().data<float>().ToArray();

        if (type == GgmlType.Q4_0 && codes.Any(c => c is < -8 or > 7))
            throw new ArgumentException($"codes of a {weight.Args.NumBits}-bit grid lie outside [-8, 7], the range of Q4_0's nibbles", nameof(weight));
        int blockBytes = GgmlQuants.BytesPerBlock(type);
        var bytes = new byte[rows * blocksPerRow * blockBytes];
        double deviation = 0;
        for (long r = 0; r < rows; r++)
            for (int b = 0; b < blocksPerRow; b++)
            {
                long block = r * blocksPerRow + b;
                float s = scales[block];
                var d = (Half)s;
                var output = bytes.AsSpan((int)(block * blockBytes), blockBytes);
                BinaryPrimitives.WriteHalfLittleEndian(output, d);
                var q = codes.AsSpan((int)(r * columns + b * GgmlQuants.BlockElements), GgmlQuants.BlockElements);
                int blockMax = 0;
                foreach (sbyte c in q) blockMax = Math.Max(blockMax, Math.Abs((int)c));
                deviation = Math.Max(deviation, blockMax * Math.Abs((double)(float)d - s));
                if (type == GgmlType.Q8_0)
                    for (int j = 0; j < q.Length; j++) output[2 + j] = (byte)q[j];
                else
                    for (int j = 0; j < q.Length / 2; j++)
                        output[2 + j] = (byte)((q[j] + 8) | ((q[j + q.Length / 2] + 8) << 4));
            }
        return new GgmlBlockEncoding(type, bytes, deviation);
    }
}
