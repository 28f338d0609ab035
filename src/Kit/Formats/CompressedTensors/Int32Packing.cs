using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Kit.Models.Safetensors;
using Kit.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace Kit.Formats.CompressedTensors;

/// <summary>
/// compressed-tensors' <c>pack_to_int32</c> / <c>unpack_from_int32</c>: b-bit signed codes, shifted by
/// 2^(b−1) to unsigned, packed 32/b to an int32 word, element k of a word at bits [k·b, k·b + b) (LSB
/// first), the last word of a row padded with zeros. <see cref="PackRows"/> packs along the input
/// dimension (<c>weight_packed</c>), <see cref="PackColumns"/> along the output dimension
/// (<c>weight_zero_point</c>). Only widths that divide 32 are accepted: for those the 0.12.x layout
/// (32/b values per word) and the newer dense one (values may straddle words) are the same bits.
/// </summary>
/// <remarks>
/// On the CPU both directions are one pass over the codes; elsewhere they are tensor operations, which on the
/// CPU made several int64 copies of every weight (8 bytes per 4-bit code) and most of RTN's and loading's time.
/// </remarks>
public static unsafe class Int32Packing
{
    /// <summary>Words per row of <paramref name="columns"/> values of <paramref name="bits"/> bits: ceil(columns · b / 32).</summary>
    public static long WordsFor(long columns, int bits)
    {
        int perWord = PerWord(bits);
        return (columns + perWord - 1) / perWord;
    }

    /// <summary>
    /// Packs <paramref name="codes"/> [rows, cols] (any integer dtype, values in [−2^(b−1), 2^(b−1)−1])
    /// into int32 [rows, ceil(cols · b / 32)], on the codes' device.
    /// </summary>
    public static Tensor PackRows(Tensor codes, int bits)
    {
        _ = PerWord(bits); // refuses other widths before any work
        if (codes.dim() != 2) throw new ArgumentException($"codes must be 2-D, got shape [{string.Join(", ", codes.shape)}]", nameof(codes));
        using var scope = NewDisposeScope();
        long rows = codes.shape[0], columns = codes.shape[1], words = WordsFor(columns, bits);
        if (codes.device_type == DeviceType.CPU) return PackOnCpu(codes, bits, rows, columns, words).MoveToOuterDisposeScope();
        return PackWithTensorOps(codes, bits).MoveToOuterDisposeScope();
    }

    // The reference the CPU path must equal; the path for other devices.
    internal static Tensor PackWithTensorOps(Tensor codes, int bits)
    {
        int perWord = PerWord(bits);
        using var scope = NewDisposeScope();
        long rows = codes.shape[0], columns = codes.shape[1], words = WordsFor(columns, bits);
        var unsigned = codes.to_type(ScalarType.Int64).Plus(1L << (bits - 1));
        long padding = words * perWord - columns;
        if (padding > 0)
            unsigned = cat([unsigned, zeros(rows, padding, ScalarType.Int64, codes.device)], 1);
        var shifts = ScalarArithmetic.Arange(perWord, ScalarType.Int64, codes.device).Times(bits);
        // The fields are disjoint, so their sum is their bitwise or; it is formed in int64 and then
        // wrapped to the signed int32 with the same 32 bits, since torch casts need not wrap.
        var word = unsigned.view(rows, words, perWord).bitwise_left_shift(shifts).sum(2, type: ScalarType.Int64);
        word = where(word.ge(HeldScalars.Of(1L << 31)), word.Minus(1L << 32), word);
        return word.to_type(ScalarType.Int32).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Unpacks int32 <paramref name="packed"/> [rows, words] into int8 codes [rows, <paramref name="columns"/>],
    /// dropping the padding; <paramref name="packed"/> must have exactly ceil(columns · b / 32) words per row.
    /// </summary>
    public static Tensor UnpackRows(Tensor packed, int bits, long columns)
    {
        _ = PerWord(bits); // refuses other widths before any work
        if (packed.dim() != 2 || packed.dtype != ScalarType.Int32)
            throw new ArgumentException($"packed must be a 2-D int32 tensor, got {packed.dtype} [{string.Join(", ", packed.shape)}]", nameof(packed));
        if (packed.shape[1] != WordsFor(columns, bits))
            throw new ArgumentException($"{columns} values of {bits} bits need {WordsFor(columns, bits)} words per row, got {packed.shape[1]}", nameof(packed));
        using var scope = NewDisposeScope();
        if (packed.device_type == DeviceType.CPU) return UnpackOnCpu(packed, bits, columns).MoveToOuterDisposeScope();
        return UnpackWithTensorOps(packed, bits, columns).MoveToOuterDisposeScope();
    }

    // The reference the CPU path must equal; the path for other devices.
    internal static Tensor UnpackWithTensorOps(Tensor packed, int bits, long columns)
    {
        int perWord = PerWord(bits);
        using var scope = NewDisposeScope();
        long rows = packed.shape[0], words = packed.shape[1];
        var device = packed.device;
        var word = packed.to_type(ScalarType.Int64).bitwise_and(tensor(0xFFFFFFFFL, device: device));
        var shifts = ScalarArithmetic.Arange(perWord, ScalarType.Int64, device).Times(bits);
        var fields = word.unsqueeze(2).bitwise_right_shift(shifts).bitwise_and(tensor((1L << bits) - 1, device: device));
        var codes = fields.reshape(rows, words * perWord)[.., ..(int)columns].Minus(1L << (bits - 1));
        return codes.to_type(ScalarType.Int8).contiguous().MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Packs <paramref name="codes"/> [rows, cols] along dim 0 into int32 [ceil(rows · b / 32), cols], as
    /// compressed-tensors packs zero points (<c>packed_dim=0</c>).
    /// </summary>
    public static Tensor PackColumns(Tensor codes, int bits)
    {
        using var scope = NewDisposeScope();
        return PackRows(codes.t(), bits).t().contiguous().MoveToOuterDisposeScope();
    }

    /// <summary>Unpacks int32 <paramref name="packed"/> [words, cols] packed along dim 0 into int8 [<paramref name="rows"/>, cols].</summary>
    public static Tensor UnpackColumns(Tensor packed, int bits, long rows)
    {
        using var scope = NewDisposeScope();
        return UnpackRows(packed.t(), bits, rows).t().contiguous().MoveToOuterDisposeScope();
    }

    // Callers hold a dispose scope, which takes the temporaries made here.
    static Tensor PackOnCpu(Tensor codes, int bits, long rows, long columns, long words)
    {
        var source = codes.to_type(ScalarType.Int8).contiguous();
        var result = empty(new[] { rows, words }, ScalarType.Int32);
        sbyte* from = (sbyte*)TensorMemory.Address(source);
        int* to = (int*)TensorMemory.Address(result);
        int perWord = PerWord(bits), offset = 1 << (bits - 1);
        uint mask = (1u << bits) - 1;
        for (long r = 0; r < rows; r++)
        {
            sbyte* row = from + r * columns;
            for (long w = 0; w < words; w++)
            {
                long first = w * perWord;
                int count = (int)Math.Min(perWord, columns - first);
                uint word = 0;
                for (int k = 0; k < count; k++) word |= ((uint)(row[first + k] + offset) & mask) << (k * bits);
                to[r * words + w] = (int)word;
            }
        }
        return result;
    }

    static Tensor UnpackOnCpu(Tensor packed, int bits, long columns)
    {
        long rows = packed.shape[0], words = packed.shape[1];
        var source = packed.contiguous();
        var result = empty(new[] { rows, columns }, ScalarType.Int8);
        uint* from = (uint*)TensorMemory.Address(source);
        sbyte* to = (sbyte*)TensorMemory.Address(result);
        for (long r = 0; r < rows; r++)
            UnpackRow(new ReadOnlySpan<uint>(from + r * words, (int)words), bits, new Span<sbyte>(to + r * columns, (int)columns));
        return result;
    }

    /// <summary>
    /// Unpacks one row of <see cref="PackRows"/>'s words into <paramref name="codes"/> (its length is the row's
    /// column count; the padding of the last word is dropped), straight from memory with no tensor in between.
    /// </summary>
    public static void UnpackRow(ReadOnlySpan<uint> words, int bits, Span<sbyte> codes)
    {
        int perWord = PerWord(bits), offset = 1 << (bits - 1);
        if (words.Length != (codes.Length + perWord - 1) / perWord)
            throw new ArgumentException($"{codes.Length} values of {bits} bits need {(codes.Length + perWord - 1) / perWord} words, got {words.Length}", nameof(words));
        int w = 0;
        if (bits == 4 && Sse2.IsSupported) w = UnpackNibbles(words, codes);
        uint mask = (1u << bits) - 1;
        for (; w < words.Length; w++)
        {
            uint word = words[w];
            int first = w * perWord, count = Math.Min(perWord, codes.Length - first);
            for (int k = 0; k < count; k++) codes[first + k] = (sbyte)((int)((word >> (k * bits)) & mask) - offset);
        }
    }

    // 4-bit codes 32 at a time (4 words, 16 bytes): each byte holds code 2i in its low nibble and 2i + 1 in its
    // high one, so splitting the nibbles and interleaving them restores the order. Returns the words done.
    static int UnpackNibbles(ReadOnlySpan<uint> words, Span<sbyte> codes)
    {
        int blocks = Math.Min(words.Length, codes.Length / 8) / 4;
        var bytes = MemoryMarshal.AsBytes(words);
        var low = Vector128.Create((byte)0x0F);
        var offset = Vector128.Create((byte)8);
        for (int b = 0; b < blocks; b++)
        {
            var v = Vector128.Create(bytes.Slice(b * 16, 16));
            var even = v & low;
            var odd = Vector128.ShiftRightLogical(v.AsUInt16(), 4).AsByte() & low;
            (Sse2.UnpackLow(even, odd) - offset).AsSByte().CopyTo(codes.Slice(b * 32, 16));
            (Sse2.UnpackHigh(even, odd) - offset).AsSByte().CopyTo(codes.Slice(b * 32 + 16, 16));
        }
        return blocks * 4;
    }

    static int PerWord(int bits) => bits is 1 or 2 or 4 or 8
        ? 32 / bits
        : throw new ArgumentOutOfRangeException(nameof(bits), bits,
            "int32 packing is defined here for 1, 2, 4 or 8 bits; other widths straddle words in newer compressed-tensors but not in 0.12.x, so their layout is ambiguous");
}
