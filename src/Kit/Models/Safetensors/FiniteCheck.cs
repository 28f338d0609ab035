using System.Numerics;

namespace Kit.Models.Safetensors;

/// <summary>
/// Whether stored floating-point values are all finite, read straight from their bytes: a value is NaN or
/// infinite exactly when its exponent bits are all ones, so one vectorised pass over the bits answers without
/// converting or copying anything.
/// </summary>
internal static unsafe class FiniteCheck
{
    /// <summary>
    /// True when none of the <paramref name="byteLength"/> bytes at <paramref name="data"/>, read as
    /// <paramref name="dtype"/>, is NaN or infinite; integer types are always finite.
    /// </summary>
    public static bool AllFinite(byte* data, long byteLength, DType dtype)
    {
        const long slice = 8 << 20;
        if (byteLength <= slice) return AllFiniteSerial(data, byteLength, dtype);
        // A large tensor is checked in slices on every core: reading a freshly mapped tensor is mostly page faults.
        long slices = (byteLength + slice - 1) / slice;
        var result = Parallel.For(0L, slices, (s, state) =>
        {
            long begin = s * slice;
            if (!AllFiniteSerial(data + begin, Math.Min(slice, byteLength - begin), dtype)) state.Stop();
        });
        return result.IsCompleted;
    }

    /// <summary>Whether every value of the contiguous CPU tensor <paramref name="tensor"/>, stored as <paramref name="dtype"/>, is finite.</summary>
    public static bool AllFinite(TorchSharp.torch.Tensor tensor, DType dtype) =>
        AllFinite(TensorMemory.Address(tensor), TensorMemory.ByteLength(tensor), dtype);

    static bool AllFiniteSerial(byte* data, long byteLength, DType dtype) => dtype switch
    {
        DType.F32 => AllFinite<uint>((uint*)data, byteLength / 4, 0x7F80_0000u),
        DType.F64 => AllFinite<ulong>((ulong*)data, byteLength / 8, 0x7FF0_0000_0000_0000ul),
        DType.F16 => AllFinite<ushort>((ushort*)data, byteLength / 2, 0x7C00),
        DType.BF16 => AllFinite<ushort>((ushort*)data, byteLength / 2, 0x7F80),
        // E4M3 "fn" has no infinities; its NaN is S.1111.111.
        DType.F8_E4M3 => AllFinite<byte>(data, byteLength, 0x7F),
        _ => true,
    };

    static bool AllFinite<T>(T* bits, long count, T exponent) where T : unmanaged, IBinaryInteger<T>
    {
        var mask = new Vector<T>(exponent);
        long i = 0;
        // Chunks keep the early exit while letting the inner loop run without a branch per vector.
        const int vectorsPerChunk = 64;
        long chunk = (long)Vector<T>.Count * vectorsPerChunk;
        for (; i + chunk <= count; i += chunk)
        {
            var hit = Vector<T>.Zero;
            for (int v = 0; v < vectorsPerChunk; v++)
            {
                var values = Vector.Load(bits + i + (long)v * Vector<T>.Count);
                hit |= Vector.Equals(values & mask, mask);
            }
            if (hit != Vector<T>.Zero) return false;
        }
        for (; i < count; i++)
            if ((bits[i] & exponent) == exponent) return false;
        return true;
    }
}
