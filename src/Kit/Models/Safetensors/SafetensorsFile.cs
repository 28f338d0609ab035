using System.Buffers.Binary;
using System.IO.MemoryMappedFiles;
using TorchSharp;

namespace Kit.Models.Safetensors;

/// <summary>
/// One <c>.safetensors</c> file, memory-mapped: opening reads and validates only the header, each
/// <see cref="Load"/> copies only that tensor's bytes out of the map, and <see cref="Map"/> gives a tensor
/// over them without copying.
/// </summary>
/// <remarks>
/// Layout: an unsigned 64-bit little-endian header length N, N bytes of JSON
/// (<c>{name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {...}}</c>), then the data
/// section, to which <c>data_offsets</c> are relative. Instances are safe to read from several threads.
/// </remarks>
public sealed unsafe class SafetensorsFile : IDisposable
{
    readonly FileStream _stream;
    readonly MemoryMappedFile _map;
    readonly MemoryMappedViewAccessor _view;
    readonly long _dataStart;
    readonly byte* _data;
    readonly Dictionary<string, TensorInfo> _byName;
    bool _disposed;

    SafetensorsFile(string path, FileStream stream, MemoryMappedFile map, MemoryMappedViewAccessor view, long dataStart, byte* data, SafetensorsHeader header)
    {
        Path = path;
        _stream = stream;
        _map = map;
        _view = view;
        _dataStart = dataStart;
        _data = data;
        Metadata = header.Metadata;
        Names = header.Tensors.Select(t => t.Name).ToArray();
        _byName = header.Tensors.ToDictionary(t => t.Name);
    }

    /// <summary>The full path of the file.</summary>
    public string Path { get; }

    /// <summary>The header's <c>__metadata__</c> (empty when absent).</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>Tensor names in storage order, so that loading them in this order reads the file front to back.</summary>
    public IReadOnlyList<string> Names { get; }

    /// <summary>Opens, validates and maps <paramref name="path"/>.</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">The header is truncated, not JSON, or describes tensors the data cannot hold.</exception>
    public static SafetensorsFile Open(string path)
    {
        if (!BitConverter.IsLittleEndian)
            throw new PlatformNotSupportedException("safetensors data is little-endian; Kit copies it unchanged and needs a little-endian machine");
        path = System.IO.Path.GetFullPath(path);
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: no such safetensors file", path);

        var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        long fileLength = stream.Length;
        if (fileLength < 8)
        {
            stream.Dispose();
            throw new InvalidDataException($"{path}: file is {fileLength} bytes, too short for the 8-byte header length");
        }

        MemoryMappedFile map;
        try
        {
            // The stream stays open: Map maps tensors from this same file even if the path is replaced meanwhile.
            map = MemoryMappedFile.CreateFromFile(stream, null, 0, MemoryMappedFileAccess.Read, HandleInheritability.None, leaveOpen: true);
        }
        catch
        {
            stream.Dispose();
            throw;
        }
        MemoryMappedViewAccessor? view = null;
        bool acquired = false;
        try
        {
            view = map.CreateViewAccessor(0, fileLength, MemoryMappedFileAccess.Read);
            byte* start = null;
            view.SafeMemoryMappedViewHandle.AcquirePointer(ref start);
            acquired = true;
            start += view.PointerOffset;

            ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(new ReadOnlySpan<byte>(start, 8));
            if (headerLength > (ulong)(fileLength - 8))
                throw new InvalidDataException($"{path}: header length {headerLength} runs past the end of the {fileLength}-byte file (truncated or not safetensors)");
            if (headerLength > SafetensorsHeader.MaxHeaderLength)
                throw new InvalidDataException($"{path}: header length {headerLength} exceeds the {SafetensorsHeader.MaxHeaderLength}-byte limit");

            long dataStart = 8 + (long)headerLength;
            var header = SafetensorsHeader.Parse(new ReadOnlySpan<byte>(start + 8, (int)headerLength), fileLength - dataStart, path);
            return new SafetensorsFile(path, stream, map, view, dataStart, start + dataStart, header);
        }
        catch
        {
            if (acquired) view!.SafeMemoryMappedViewHandle.ReleasePointer();
            view?.Dispose();
            map.Dispose();
            stream.Dispose();
            throw;
        }
    }

    /// <summary>True when the file holds a tensor called <paramref name="name"/>.</summary>
    public bool Contains(string name) => _byName.ContainsKey(name);

    /// <summary>The header entry of <paramref name="name"/>.</summary>
    /// <exception cref="KeyNotFoundException">No such tensor; the message names it and the file.</exception>
    public TensorInfo Info(string name) =>
        _byName.TryGetValue(name, out var info) ? info
            : throw new KeyNotFoundException($"{Path}: no tensor named '{name}'");

    /// <summary>
    /// The stored bytes of <paramref name="name"/>, little-endian, straight from the map. The span is
    /// valid until this file is disposed.
    /// </summary>
    /// <exception cref="NotSupportedException">The tensor is 2 GiB or larger (a span cannot address it).</exception>
    public ReadOnlySpan<byte> RawBytes(string name)
    {
        var info = Info(name);
        ThrowIfDisposed();
        if (info.ByteLength > int.MaxValue)
            throw new NotSupportedException($"{Path}: tensor '{name}' is {info.ByteLength} bytes, too large for a span; use Load");
        return new ReadOnlySpan<byte>(_data + info.Begin, (int)info.ByteLength);
    }

    /// <summary>
    /// Copies tensor <paramref name="name"/> into a new contiguous tensor.
    /// </summary>
    /// <param name="name">The tensor's name.</param>
    /// <param name="dtype">
    /// The element type wanted; null keeps the stored one (exactly: the bytes are copied, not converted).
    /// Conversions go through TorchSharp's <c>to</c>. F8_E4M3 has no TorchSharp type: with no dtype (or
    /// <c>uint8</c>) its raw bits come back as <c>uint8</c>; with a floating dtype they are decoded to values.
    /// </param>
    /// <param name="device">Where the tensor goes; null means CPU.</param>
    public torch.Tensor Load(string name, torch.ScalarType? dtype = null, torch.Device? device = null)
    {
        var info = Info(name);
        ThrowIfDisposed();
        bool decodeFloat8 = info.DType == DType.F8_E4M3 && dtype is { } wanted && wanted != torch.ScalarType.Byte;
        if (decodeFloat8 && !IsFloating(dtype!.Value))
            throw new NotSupportedException($"{Path}: tensor '{name}' is F8_E4M3; load it as uint8 (raw bits) or a floating type, not {dtype}");

        var stored = torch.empty(info.Shape, decodeFloat8 ? torch.ScalarType.Float32 : info.DType.ToScalarType());
        try
        {
            if (decodeFloat8) DecodeFloat8(_data + info.Begin, (float*)TensorMemory.Address(stored), info.ElementCount);
            else if (info.ByteLength > 0) Buffer.MemoryCopy(_data + info.Begin, TensorMemory.Address(stored), info.ByteLength, info.ByteLength);
        }
        catch
        {
            stored.Dispose();
            throw;
        }

        var target = dtype ?? stored.dtype;
        var targetDevice = device ?? torch.CPU;
        if (target == stored.dtype && targetDevice.type == DeviceType.CPU) return stored;
        using (stored) return stored.to(target, targetDevice);
    }

    /// <summary>
    /// A CPU tensor of the stored dtype and shape whose memory is a private, copy-on-write map of
    /// <paramref name="name"/>'s bytes: no copy, and writes to it never reach the file. It stays valid after this
    /// file is disposed, and its map goes when the tensor's storage is freed. Null when the tensor cannot be
    /// mapped (no elements, F8_E4M3, an offset not aligned to its element size, or a platform without the
    /// native calls); <see cref="Load"/> copies it then.
    /// </summary>
    public torch.Tensor? Map(string name)
    {
        var info = Info(name);
        ThrowIfDisposed();
        return MappedTensor.TryCreate(_stream.SafeFileHandle, Path, _dataStart + info.Begin, info);
    }

    /// <summary>
    /// True when no stored value of <paramref name="name"/> is NaN or infinite (one pass over its bytes in the
    /// map; integer tensors are always finite).
    /// </summary>
    public bool AllFinite(string name)
    {
        var info = Info(name);
        ThrowIfDisposed();
        return FiniteCheck.AllFinite(_data + info.Begin, info.ByteLength, info.DType);
    }

    /// <summary>
    /// Copies the stored bytes of <paramref name="name"/> straight into <paramref name="destination"/>, a
    /// contiguous CPU tensor of the stored dtype and shape: one copy out of the map, with no tensor in between.
    /// </summary>
    /// <exception cref="ArgumentException">The destination's device, layout, dtype or shape does not match.</exception>
    public void CopyInto(string name, torch.Tensor destination)
    {
        var info = Info(name);
        ThrowIfDisposed();
        if (!CanCopyInto(info, destination))
            throw new ArgumentException($"{Path}: tensor '{name}' is {info.DType} [{string.Join(", ", info.Shape)}]; " +
                $"the destination is {destination.dtype} [{string.Join(", ", destination.shape)}] on {destination.device}" +
                (destination.is_contiguous() ? "" : ", not contiguous"), nameof(destination));
        if (info.ByteLength > 0) ParallelCopy(_data + info.Begin, TensorMemory.Address(destination), info.ByteLength);
    }

    /// <summary>Whether <see cref="CopyInto"/> can fill <paramref name="destination"/> with <paramref name="info"/>'s bytes.</summary>
    internal static bool CanCopyInto(TensorInfo info, torch.Tensor destination) =>
        info.DType != DType.F8_E4M3 && destination.device_type == DeviceType.CPU && destination.is_contiguous()
        && destination.dtype == info.DType.ToScalarType() && destination.shape.SequenceEqual(info.Shape);

    // Large tensors are copied in slices on every core: the copy also faults in the destination's fresh pages.
    static void ParallelCopy(byte* from, byte* to, long length)
    {
        const long slice = 8 << 20;
        if (length <= slice)
        {
            Buffer.MemoryCopy(from, to, length, length);
            return;
        }
        long slices = (length + slice - 1) / slice;
        Parallel.For(0L, slices, s =>
        {
            long begin = s * slice, count = Math.Min(slice, length - begin);
            Buffer.MemoryCopy(from + begin, to + begin, count, count);
        });
    }

    static bool IsFloating(torch.ScalarType type) =>
        type is torch.ScalarType.Float16 or torch.ScalarType.BFloat16 or torch.ScalarType.Float32 or torch.ScalarType.Float64;

    static void DecodeFloat8(byte* bits, float* values, long count)
    {
        var table = Float8E4M3.Values;
        for (long i = 0; i < count; i++) values[i] = table[bits[i]];
    }

    void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(_disposed, this);

    /// <summary>Unmaps and closes the file. Spans from <see cref="RawBytes"/> must not be used afterwards; loaded and mapped tensors stay valid.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _view.SafeMemoryMappedViewHandle.ReleasePointer();
        _view.Dispose();
        _map.Dispose();
        _stream.Dispose();
    }
}
