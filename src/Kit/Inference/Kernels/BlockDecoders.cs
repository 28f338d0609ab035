using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Kit.Inference.Kernels;

/// <summary>Turns one 32-column block of stored codes into weights, for one <see cref="PackedFormat"/>.</summary>
internal unsafe interface IBlockDecoder
{
    /// <summary>Bytes per 32-code block.</summary>
    static abstract int BlockBytes { get; }

    /// <summary>Weights code · scale + offset of the block's codes 0–7, 8–15, 16–23 and 24–31 (AVX2 + FMA).</summary>
    static abstract void Decode(byte* block, Vector256<float> scale, Vector256<float> offset,
        out Vector256<float> w0, out Vector256<float> w1, out Vector256<float> w2, out Vector256<float> w3);

    /// <summary>Weights code · scale + offset of the block's codes 0–15 and 16–31 (AVX-512).</summary>
    static abstract void Decode(byte* block, Vector512<float> scale, Vector512<float> offset, out Vector512<float> w0, out Vector512<float> w1);

    /// <summary>The stored code at packed column <paramref name="column"/> of a row.</summary>
    static abstract int Code(byte* row, int column);

    /// <summary>
    /// Two consecutive blocks' stored codes as unsigned bytes for vpmaddubsw/vpdpbusd (unsigned × signed):
    /// <paramref name="low"/> holds codes 0–15 of the first block then codes 0–15 of the second, <paramref name="high"/>
    /// codes 16–31 of each (the order of <see cref="QuantizedActivations"/>); with <paramref name="single"/> the
    /// second block is not read and counts as zeros. The signs keep what <see cref="Signed"/> needs.
    /// </summary>
    static abstract void Pair(byte* blocks, bool single, out Vector256<byte> low, out Vector256<byte> high, out Vector256<sbyte> lowSigns, out Vector256<sbyte> highSigns);

    /// <summary>Activation codes <paramref name="q"/> with the signs that <see cref="Pair"/> took off the weights.</summary>
    static abstract Vector256<sbyte> Signed(Vector256<sbyte> q, Vector256<sbyte> signs);
}

/// <summary>Nibble pairs: byte i of a 16-byte block holds code i (low nibble) and code i + 16 (high nibble).</summary>
internal readonly unsafe struct Int4Decoder : IBlockDecoder
{
    public static int BlockBytes => 16;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Decode(byte* block, Vector256<float> scale, Vector256<float> offset,
        out Vector256<float> w0, out Vector256<float> w1, out Vector256<float> w2, out Vector256<float> w3)
    {
        var mask = Vector256.Create(15);
        // vpmovzxbd puts each byte in its own int32 lane, so its high nibble is a plain shift away.
        var first = Avx2.ConvertToVector256Int32(block);
        var second = Avx2.ConvertToVector256Int32(block + 8);
        w0 = Fma.MultiplyAdd(Avx.ConvertToVector256Single(Avx2.And(first, mask)), scale, offset);
        w1 = Fma.MultiplyAdd(Avx.ConvertToVector256Single(Avx2.And(second, mask)), scale, offset);
        w2 = Fma.MultiplyAdd(Avx.ConvertToVector256Single(Avx2.ShiftRightLogical(first, 4)), scale, offset);
        w3 = Fma.MultiplyAdd(Avx.ConvertToVector256Single(Avx2.ShiftRightLogical(second, 4)), scale, offset);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Decode(byte* block, Vector512<float> scale, Vector512<float> offset, out Vector512<float> w0, out Vector512<float> w1)
    {
        var pairs = Avx512F.ConvertToVector512Int32(Vector128.Load(block));
        w0 = Avx512F.FusedMultiplyAdd(Avx512F.ConvertToVector512Single(Avx512F.And(pairs, Vector512.Create(15))), scale, offset);
        w1 = Avx512F.FusedMultiplyAdd(Avx512F.ConvertToVector512Single(Avx512F.ShiftRightLogical(pairs, 4)), scale, offset);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Code(byte* row, int column)
    {
        byte pair = row[column / 32 * 16 + column % 16];
        return column % 32 < 16 ? pair & 15 : pair >> 4;
    }

    // The nibbles are already unsigned (code + 8): the low ones of both blocks are their columns 0–15, the high ones 16–31.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Pair(byte* blocks, bool single, out Vector256<byte> low, out Vector256<byte> high, out Vector256<sbyte> lowSigns, out Vector256<sbyte> highSigns)
    {
        var pairs = single ? Vector256.Create(Vector128.Load(blocks), Vector128<byte>.Zero) : Vector256.Load(blocks);
        var mask = Vector256.Create((byte)15);
        low = Avx2.And(pairs, mask);
        high = Avx2.And(Avx2.ShiftRightLogical(pairs.AsUInt16(), 4).AsByte(), mask);
        lowSigns = highSigns = default;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<sbyte> Signed(Vector256<sbyte> q, Vector256<sbyte> signs) => q;
}

/// <summary>One signed byte per code.</summary>
internal readonly unsafe struct Int8Decoder : IBlockDecoder
{
    public static int BlockBytes => 32;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Decode(byte* block, Vector256<float> scale, Vector256<float> offset,
        out Vector256<float> w0, out Vector256<float> w1, out Vector256<float> w2, out Vector256<float> w3)
    {
        var codes = (sbyte*)block;
        w0 = Fma.MultiplyAdd(Avx.ConvertToVector256Single(Avx2.ConvertToVector256Int32(codes)), scale, offset);
        w1 = Fma.MultiplyAdd(Avx.ConvertToVector256Single(Avx2.ConvertToVector256Int32(codes + 8)), scale, offset);
        w2 = Fma.MultiplyAdd(Avx.ConvertToVector256Single(Avx2.ConvertToVector256Int32(codes + 16)), scale, offset);
        w3 = Fma.MultiplyAdd(Avx.ConvertToVector256Single(Avx2.ConvertToVector256Int32(codes + 24)), scale, offset);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Decode(byte* block, Vector512<float> scale, Vector512<float> offset, out Vector512<float> w0, out Vector512<float> w1)
    {
        var codes = (sbyte*)block;
        w0 = Avx512F.FusedMultiplyAdd(Avx512F.ConvertToVector512Single(Avx512F.ConvertToVector512Int32(Vector128.Load(codes))), scale, offset);
        w1 = Avx512F.FusedMultiplyAdd(Avx512F.ConvertToVector512Single(Avx512F.ConvertToVector512Int32(Vector128.Load(codes + 16))), scale, offset);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Code(byte* row, int column) => ((sbyte*)row)[column];

    // |w| · (q with w's sign) = w · q; |−128| = 128 still fits an unsigned byte, and vpsignb zeroes q where w is 0.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Pair(byte* blocks, bool single, out Vector256<byte> low, out Vector256<byte> high, out Vector256<sbyte> lowSigns, out Vector256<sbyte> highSigns)
    {
        var first = Avx.LoadVector256((sbyte*)blocks);
        var second = single ? Vector256<sbyte>.Zero : Avx.LoadVector256((sbyte*)blocks + 32);
        lowSigns = Avx2.Permute2x128(first, second, 0x20);
        highSigns = Avx2.Permute2x128(first, second, 0x31);
        low = Avx2.Abs(lowSigns);
        high = Avx2.Abs(highSigns);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<sbyte> Signed(Vector256<sbyte> q, Vector256<sbyte> signs) => Avx2.Sign(q, signs);
}

/// <summary>How many activation rows one pass over a weight row serves: the kernels are specialised per count.</summary>
internal interface ITile
{
    /// <summary>Activation rows in the tile (1–4, and 8 for the integer kernels).</summary>
    static abstract int Count { get; }
}

internal readonly struct OneRow : ITile { public static int Count => 1; }
internal readonly struct TwoRows : ITile { public static int Count => 2; }
internal readonly struct ThreeRows : ITile { public static int Count => 3; }
internal readonly struct FourRows : ITile { public static int Count => 4; }
internal readonly struct EightRows : ITile { public static int Count => 8; }
