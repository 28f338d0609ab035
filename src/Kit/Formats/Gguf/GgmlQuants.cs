using System.Buffers.Binary;

namespace Kit.Formats.Gguf;

/// <summary>
/// ggml's block encodings for the types Kit writes, bit for bit as <c>ggml-quants.c</c>'s reference
/// (<c>_ref</c>) functions: Q8_0 <c>{fp16 d; int8 qs[32]}</c> with d = amax/127, Q4_0
/// <c>{fp16 d; uint8 qs[16]}</c> with d = max/−8 (max the value of largest magnitude, sign kept), and Q4_1
/// <c>{fp16 d; fp16 m; uint8 qs[16]}</c> with d = (max − min)/15 and m = min; the 4-bit types keep elements
/// 0–15 in the low nibbles and 16–31 in the high ones.
/// </summary>
public static class GgmlQuants
{
    /// <summary>Elements per Q4_0, Q4_1 and Q8_0 block (ggml's QK4_0 = QK4_1 = QK8_0 = 32).</summary>
    public const int BlockElements = 32;
    /// <summary>Bytes of one Q8_0 block: fp16 d and 32 int8 values.</summary>
    public const int Q8_0BlockBytes = 2 + BlockElements;
    /// <summary>Bytes of one Q4_0 block: fp16 d and 16 bytes of nibble pairs.</summary>
    public const int Q4_0BlockBytes = 2 + BlockElements / 2;
    /// <summary>Bytes of one Q4_1 block: fp16 d, fp16 m and 16 bytes of nibble pairs.</summary>
    public const int Q4_1BlockBytes = 4 + BlockElements / 2;

    /// <summary>Elements one block of <paramref name="type"/> holds (1 for the float types).</summary>
    public static int ElementsPerBlock(GgmlType type) => type is GgmlType.Q4_0 or GgmlType.Q4_1 or GgmlType.Q8_0 ? BlockElements : 1;

    /// <summary>Bytes one block of <paramref name="type"/> takes.</summary>
    public static int BytesPerBlock(GgmlType type) => type switch
    {
        GgmlType.F32 => 4,
        GgmlType.F16 or GgmlType.BF16 => 2,
        GgmlType.Q4_0 => Q4_0BlockBytes,
        GgmlType.Q4_1 => Q4_1BlockBytes,
        GgmlType.Q8_0 => Q8_0BlockBytes,
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, $"ggml type {GgmlTypeNames.Of((uint)type)} is not one Kit reads or writes"),
    };

    /// <summary>Bytes of <paramref name="elements"/> values stored as <paramref name="type"/>; the count must fill whole blocks.</summary>
    public static long ByteCount(GgmlType type, long elements)
    {
        int per = ElementsPerBlock(type);
        if (elements % per != 0)
            throw new ArgumentException($"{elements} values do not fill whole {type} blocks of {per}", nameof(elements));
        return elements / per * BytesPerBlock(type);
    }

    /// <summary>Encodes float32 values as <paramref name="type"/> (F32, F16, Q8_0, Q4_0 or Q4_1) with the reference quantizers.</summary>
    public static byte[] Encode(GgmlType type, ReadOnlySpan<float> values)
    {
        var bytes = new byte[ByteCount(type, values.Length)];
        switch (type)
        {
            case GgmlType.F32:
                for (int i = 0; i < values.Length; i++) BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(4 * i), values[i]);
                break;
            case GgmlType.F16:
                for (int i = 0; i < values.Length; i++) BinaryPrimitives.WriteHalfLittleEndian(bytes.AsSpan(2 * i), (Half)values[i]);
                break;
            case GgmlType.Q8_0: QuantizeQ8_0(values, bytes); break;
            case GgmlType.Q4_0: QuantizeQ4_0(values, bytes); break;
            case GgmlType.Q4_1: QuantizeQ4_1(values, bytes); break;
            default: throw new ArgumentOutOfRangeException(nameof(type), type, $"Kit does not write ggml type {type}");
        }
        return bytes;
    }

    /// <summary><c>quantize_row_q8_0_ref</c>: d = amax/127 (stored as fp16), qs = roundf(x/d) with the unrounded d.</summary>
    public static void QuantizeQ8_0(ReadOnlySpan<float> x, Span<byte> y)
    {
        CheckSizes(x, y, Q8_0BlockBytes);
        for (int b = 0; b < x.Length / BlockElements; b++)
        {
            var block = x.Slice(b * BlockElements, BlockElements);
            var output = y.Slice(b * Q8_0BlockBytes, Q8_0BlockBytes);
            float amax = 0;
            foreach (float v in block) amax = MathF.Max(amax, MathF.Abs(v));
            float d = amax / 127;
            float id = d != 0 ? 1.0f / d : 0.0f;
            BinaryPrimitives.WriteHalfLittleEndian(output, (Half)d);
            // C's roundf rounds halves away from zero.
            for (int j = 0; j < BlockElements; j++)
                output[2 + j] = (byte)(sbyte)MathF.Round(block[j] * id, MidpointRounding.AwayFromZero);
        }
    }

    /// <summary>
    /// <c>quantize_row_q4_0_ref</c>: d = max/−8 where max is the value of largest magnitude, nibble =
    /// min(15, (int8)(x/d + 8.5)); element j goes to the low nibble of byte j, element j+16 to its high nibble.
    /// </summary>
    public static void QuantizeQ4_0(ReadOnlySpan<float> x, Span<byte> y)
    {
        CheckSizes(x, y, Q4_0BlockBytes);
        const int half = BlockElements / 2;
        for (int b = 0; b < x.Length / BlockElements; b++)
        {
            var block = x.Slice(b * BlockElements, BlockElements);
            var output = y.Slice(b * Q4_0BlockBytes, Q4_0BlockBytes);
            float amax = 0, max = 0;
            foreach (float v in block)
                if (amax < MathF.Abs(v)) { amax = MathF.Abs(v); max = v; }
            float d = max / -8;
            float id = d != 0 ? 1.0f / d : 0.0f;
            BinaryPrimitives.WriteHalfLittleEndian(output, (Half)d);
            for (int j = 0; j < half; j++)
            {
                // The (int8_t) cast truncates toward zero; x/d + 8.5 is at least 0.5 here, so it floors.
                int low = Math.Min(15, (int)(sbyte)(block[j] * id + 8.5f));
                int high = Math.Min(15, (int)(sbyte)(block[half + j] * id + 8.5f));
                output[2 + j] = (byte)(low | (high << 4));
            }
        }
    }

    /// <summary>
    /// <c>quantize_row_q4_1_ref</c>: d = (max − min)/15 and m = min (both stored as fp16), nibble =
    /// min(15, (int8)((x − min)/d + 0.5)) with the unrounded d and min; nibble order as Q4_0's.
    /// </summary>
    public static void QuantizeQ4_1(ReadOnlySpan<float> x, Span<byte> y)
    {
        CheckSizes(x, y, Q4_1BlockBytes);
        const int half = BlockElements / 2;
        for (int b = 0; b < x.Length / BlockElements; b++)
        {
            var block = x.Slice(b * BlockElements, BlockElements);
            var output = y.Slice(b * Q4_1BlockBytes, Q4_1BlockBytes);
            float min = float.MaxValue, max = -float.MaxValue;
            foreach (float v in block)
            {
                if (v < min) min = v;
                if (v > max) max = v;
            }
            float d = (max - min) / 15;
            float id = d != 0 ? 1.0f / d : 0.0f;
            BinaryPrimitives.WriteHalfLittleEndian(output, (Half)d);
            BinaryPrimitives.WriteHalfLittleEndian(output[2..], (Half)min);
            for (int j = 0; j < half; j++)
            {
                // (x − min)/d + 0.5 is at least 0.5, so the (int8_t) cast floors.
                int low = Math.Min(15, (int)(sbyte)((block[j] - min) * id + 0.5f));
                int high = Math.Min(15, (int)(sbyte)((block[half + j] - min) * id + 0.5f));
                output[4 + j] = (byte)(low | (high << 4));
            }
        }
    }

    /// <summary>Decodes <paramref name="data"/> of <paramref name="type"/> into float32 <paramref name="y"/> (one value per element).</summary>
    public static void Dequantize(GgmlType type, ReadOnlySpan<byte> data, Span<float> y)
    {
        if (data.Length != ByteCount(type, y.Length))
            throw new ArgumentException($"{data.Length} bytes of {type} do not hold {y.Length} values", nameof(data));
        switch (type)
        {
            case GgmlType.F32:
                for (int i = 0; i < y.Length; i++) y[i] = BinaryPrimitives.ReadSingleLittleEndian(data[(4 * i)..]);
                break;
            case GgmlType.F16:
                for (int i = 0; i < y.Length; i++) y[i] = (float)BinaryPrimitives.ReadHalfLittleEndian(data[(2 * i)..]);
                break;
            case GgmlType.BF16:
                for (int i = 0; i < y.Length; i++)
                    y[i] = BitConverter.Int32BitsToSingle(BinaryPrimitives.ReadUInt16LittleEndian(data[(2 * i)..]) << 16);
                break;
            case GgmlType.Q8_0:
                for (int b = 0; b < y.Length / BlockElements; b++)
                {
                    var block = data.Slice(b * Q8_0BlockBytes, Q8_0BlockBytes);
                    float d = (float)BinaryPrimitives.ReadHalfLittleEndian(block);
                    for (int j = 0; j < BlockElements; j++) y[b * BlockElements + j] = (sbyte)block[2 + j] * d;
                }
                break;
            case GgmlType.Q4_0:
                for (int b = 0; b < y.Length / BlockElements; b++)
                {
                    var block = data.Slice(b * Q4_0BlockBytes, Q4_0BlockBytes);
                    float d = (float)BinaryPrimitives.ReadHalfLittleEndian(block);
                    for (int j = 0; j < BlockElements / 2; j++)
                    {
                        y[b * BlockElements + j] = ((block[2 + j] & 0x0F) - 8) * d;
                        y[b * BlockElements + BlockElements / 2 + j] = ((block[2 + j] >> 4) - 8) * d;
                    }
                }
                break;
            case GgmlType.Q4_1:
                for (int b = 0; b < y.Length / BlockElements; b++)
                {
                    var block = data.Slice(b * Q4_1BlockBytes, Q4_1BlockBytes);
                    float d = (float)BinaryPrimitives.ReadHalfLittleEndian(block);
                    float m = (float)BinaryPrimitives.ReadHalfLittleEndian(block[2..]);
                    for (int j = 0; j < BlockElements / 2; j++)
                    {
                        y[b * BlockElements + j] = (block[4 + j] & 0x0F) * d + m;
                        y[b * BlockElements + BlockElements / 2 + j] = (block[4 + j] >> 4) * d + m;
                    }
                }
                break;
            default: throw new ArgumentOutOfRangeException(nameof(type), type, $"Kit does not read ggml type {type}");
        }
    }

    static void CheckSizes(ReadOnlySpan<float> x, Span<byte> y, int blockBytes)
    {
        if (x.Length % BlockElements != 0)
            throw new ArgumentException($"{x.Length} values are not a whole number of blocks of {BlockElements}", nameof(x));
        if (y.Length != x.Length / BlockElements * blockBytes)
            throw new ArgumentException($"output holds {y.Length} bytes, {x.Length / BlockElements * blockBytes} needed", nameof(y));
    }
}
