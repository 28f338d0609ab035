using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Kit.Inference.Kernels;

/// <summary>Which instruction set a kernel call uses.</summary>
internal enum KernelPath
{
    /// <summary>Plain C#, one code at a time: any CPU.</summary>
    Scalar,
    /// <summary>256-bit AVX2 + FMA.</summary>
    Avx2,
    /// <summary>
    /// 512-bit AVX-512 (F + BW) for the float32-activation kernels; the integer kernels keep 256-bit registers
    /// and use AVX-VNNI's vpdpbusd where the CPU has it.
    /// </summary>
    Avx512,
}

internal static class KernelPaths
{
    /// <summary>The widest path this CPU runs well (.NET reports 512-bit vectors slow on CPUs that throttle them).</summary>
    public static KernelPath Best { get; } =
        Avx512F.IsSupported && Avx512BW.IsSupported && Vector512.IsHardwareAccelerated && Fma.IsSupported ? KernelPath.Avx512
        : Avx2.IsSupported && Fma.IsSupported ? KernelPath.Avx2
        : KernelPath.Scalar;

    /// <summary><paramref name="requested"/>, narrowed to what the CPU has.</summary>
    public static KernelPath Clamp(KernelPath requested) => requested <= Best ? requested : Best;
}
