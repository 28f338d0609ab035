using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Kit.Runtime;

/// <summary>
/// Makes freed tensor memory go back to the operating system on Linux.
/// </summary>
/// <remarks>
/// libtorch allocates CPU tensors with glibc's malloc. After a large block is freed, glibc raises its
/// mmap threshold, so later large tensors come from the heap and are kept after being freed: layer-by-layer
/// compression of stories260K with 128 calibration samples peaked at 1.1 GiB instead of 0.3 GiB.
/// A fixed threshold of 64 KiB keeps every large tensor in its own mapping, unmapped when freed.
/// </remarks>
public static class NativeAllocator
{
    const int MmapThreshold = -3; // M_MMAP_THRESHOLD in malloc.h

    [DllImport("libc", EntryPoint = "mallopt")]
    static extern int Mallopt(int parameter, int value);

    /// <summary>Whether the threshold was set (false off glibc).</summary>
    public static bool Configured { get; private set; }

    /// <summary>Sets glibc's mmap threshold to 64 KiB; does nothing elsewhere. Safe to call more than once.</summary>
    public static void Configure()
    {
        if (Configured || !OperatingSystem.IsLinux()) return;
        try { Configured = Mallopt(MmapThreshold, 64 * 1024) == 1; }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException) { }
    }

#pragma warning disable CA2255 // The library owns the process's tensor memory policy from its first use.
    [ModuleInitializer]
    internal static void OnLoad() => Configure();
#pragma warning restore CA2255
}
