using System.Runtime.InteropServices;

namespace Kit.Runtime;

/// <summary>
/// Hands freed tensor memory back to the operating system on Linux, when asked, without changing how the
/// process allocates.
/// </summary>
/// <remarks>
/// libtorch allocates CPU tensors with glibc's malloc. After a large block is freed, glibc raises its mmap
/// threshold, so later large tensors come from the heap and stay there after being freed: layer-by-layer
/// compression of stories260K with 128 calibration samples peaked at 1.1 GiB instead of 0.3 GiB. Kit once
/// fixed the threshold at 64 KiB for the whole process at library load, which kept every large tensor in a
/// mapping of its own but made each allocation a fresh mapping whose pages the kernel faults in and zeroes:
/// RTN of TinyLlama-1.1B spent most of its time in the kernel. A library must not change its host's allocator
/// policy, so the layer-by-layer pipeline calls <see cref="ReleaseFreedMemory"/> at its boundaries instead,
/// which returns the freed heap pages (<c>malloc_trim</c>) and leaves the thresholds alone.
/// </remarks>
public static class NativeAllocator
{
    [DllImport("libc", EntryPoint = "malloc_trim")]
    static extern int MallocTrim(nuint pad);

    static bool unavailable;

    /// <summary>
    /// Returns the free pages of every malloc arena to the operating system (glibc's <c>malloc_trim(0)</c>).
    /// True when memory was released; false when there was none to release, or off glibc, where it does nothing.
    /// </summary>
    public static bool ReleaseFreedMemory()
    {
        if (unavailable || !OperatingSystem.IsLinux()) return false;
        try { return MallocTrim(0) == 1; }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            unavailable = true;
            return false;
        }
    }
}
