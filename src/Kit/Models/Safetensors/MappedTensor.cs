using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;
using TorchSharp;

namespace Kit.Models.Safetensors;

/// <summary>
/// CPU tensors whose memory is a private, copy-on-write map of a file's bytes: creating one costs a system
/// call, not a copy, and pages already in the page cache are shared with it until something writes to them.
/// </summary>
/// <remarks>
/// Each tensor gets a map of its own, which libtorch unmaps through the deleter when the tensor's storage is
/// freed, so the tensor stays valid however long it outlives the file object it came from. A private map keeps
/// the inode it was made from: a file replaced by a rename (as Kit's writers publish) leaves it intact, but a file
/// truncated or rewritten in place under it changes the pages not yet written to or, past the new end, faults
/// (SIGBUS) — as with any memory-mapped loader. Linux only, and only where TorchSharp's native library resolves by
/// name; elsewhere <see cref="TryCreate"/> returns null and callers copy.
/// </remarks>
internal static unsafe class MappedTensor
{
    const int ProtRead = 1, ProtWrite = 2, MapShared = 1, MapPrivate = 2;

    [DllImport("libc", SetLastError = true)]
    static extern nint mmap(nint address, nuint length, int protection, int flags, int fd, long offset);

    [DllImport("libc", SetLastError = true)]
    static extern int munmap(nint address, nuint length);

    [DllImport("LibTorchSharp")]
    static extern nint THSTensor_new(nint data, delegate* unmanaged[Cdecl]<nint, void> deleter, long* sizes, int sizeCount,
        sbyte storedType, sbyte dtype, int deviceType, int deviceIndex, [MarshalAs(UnmanagedType.U1)] bool requiresGrad);

    // The deleter receives only the data pointer; this finds the map it lies in. Every live map has its own addresses.
    static readonly ConcurrentDictionary<nint, (nint Start, nuint Length, string Path)> live = new();
    static bool unavailable;

    /// <summary>
    /// A tensor of <paramref name="info"/>'s dtype and shape over the bytes at <paramref name="fileOffset"/> of the
    /// open file <paramref name="file"/> (at <paramref name="path"/>), or null when it cannot be mapped: not Linux,
    /// no elements, a dtype libtorch lacks, an offset not aligned to the element size, or no native entry points.
    /// </summary>
    public static torch.Tensor? TryCreate(SafeFileHandle file, string path, long fileOffset, TensorInfo info)
    {
        if (unavailable || !OperatingSystem.IsLinux() || info.ByteLength == 0 || info.DType == DType.F8_E4M3) return null;
        var type = info.DType.ToScalarType();
        // libtorch's kernels assume naturally aligned elements; a file that does not align them is copied.
        if (fileOffset % (info.ByteLength / info.ElementCount) != 0) return null;

        long page = Environment.SystemPageSize;
        long start = fileOffset / page * page, skip = fileOffset - start;
        nuint length = (nuint)(skip + info.ByteLength);
        nint map;
        try
        {
            map = mmap(0, length, ProtRead | ProtWrite, MapPrivate, (int)file.DangerousGetHandle(), start);
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            unavailable = true;
            return null;
        }
        if (map == -1) throw new IOException($"{path}: cannot map tensor '{info.Name}' (errno {Marshal.GetLastPInvokeError()})");

        try
        {
            return Wrap(map, length, map + (nint)skip, info.Shape, type, path, info.Name);
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            unavailable = true;
            return null;
        }
    }

    /// <summary>
    /// A zero-filled CPU tensor of <paramref name="shape"/> whose memory is a shared map of a new file in
    /// <paramref name="folder"/>, unlinked at once: the kernel writes its pages to that file (not to swap) when memory
    /// runs short and reads them back when they are used, and the space returns to the file system when the tensor is
    /// freed or the process ends, however it ends. For data larger than memory (calibration activations).
    /// </summary>
    /// <exception cref="PlatformNotSupportedException">Not Linux, or TorchSharp's native library is not found by name.</exception>
    public static torch.Tensor CreateScratch(string folder, long[] shape, torch.ScalarType type)
    {
        if (!OperatingSystem.IsLinux()) throw new PlatformNotSupportedException("a scratch file for tensors needs Linux's memory maps");
        long bytes = shape.Aggregate(1L, (a, b) => a * b) * ElementBytes(type);
        string path = Path.Combine(folder, $"scratch-{Guid.NewGuid():N}.bin");
        nint map;
        using (var stream = new FileStream(path, FileMode.CreateNew, FileAccess.ReadWrite))
        {
            try
            {
                // Sparse: reads as zeros and takes no space until written.
                stream.SetLength(Math.Max(bytes, 1));
                map = mmap(0, (nuint)Math.Max(bytes, 1), ProtRead | ProtWrite, MapShared, (int)stream.SafeFileHandle.DangerousGetHandle(), 0);
            }
            finally
            {
                File.Delete(path);
            }
        }
        if (map == -1) throw new IOException($"{folder}: cannot map a scratch file of {bytes} bytes (errno {Marshal.GetLastPInvokeError()})");
        try
        {
            return Wrap(map, (nuint)Math.Max(bytes, 1), map, shape, type, path, "scratch");
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            throw new PlatformNotSupportedException("TorchSharp's native library cannot take a tensor over a memory map here", e);
        }
    }

    static long ElementBytes(torch.ScalarType type)
    {
        using var probe = torch.empty(0, dtype: type);
        return probe.ElementSize;
    }

    // A tensor over `data` inside the map [map, map + length), which libtorch unmaps when the storage is freed.
    static torch.Tensor Wrap(nint map, nuint length, nint data, long[] shape, torch.ScalarType type, string path, string name)
    {
        live[data] = (map, length, path);
        nint handle;
        try
        {
            fixed (long* sizes = shape)
                handle = THSTensor_new(data, &Release, sizes, shape.Length, (sbyte)type, (sbyte)type, (int)DeviceType.CPU, 0, false);
        }
        catch
        {
            Unmap(data);
            throw;
        }
        if (handle == 0)
        {
            Unmap(data);
            torch.CheckForErrors();
            throw new InvalidOperationException($"{path}: libtorch refused a tensor over the map of '{name}'");
        }
        return torch.Tensor.UnsafeCreateTensor(handle);
    }

    /// <summary>How many maps of <paramref name="path"/> are alive (tensors not yet freed).</summary>
    public static int LiveMaps(string path) => live.Values.Count(m => m.Path == path);

    // libtorch calls this, on whichever thread frees the storage, once no tensor uses the map any more.
    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    static void Release(nint data) => Unmap(data);

    static void Unmap(nint data)
    {
        if (live.TryRemove(data, out var map)) munmap(map.Start, map.Length);
    }
}
