using System.Buffers.Binary;
using System.Text;
using Kit.Models.Safetensors;

namespace Kit.Tests.Models.Safetensors;

public sealed class LazyLoadTests : IDisposable
{
    const long BigBytes = 3L << 30;
    readonly string _dir = TestPaths.NewTempDir();

    /// <summary>
    /// A 3 GiB file, sparse on disk: a 3 GiB U8 tensor of zeros, then a small F32 tensor at an offset
    /// beyond 2^31, which only 64-bit offsets reach.
    /// </summary>
    string WriteSparseFile()
    {
        var header = Encoding.UTF8.GetBytes(
            $$$"""{"big":{"dtype":"U8","shape":[{{{BigBytes}}}],"data_offsets":[0,{{{BigBytes}}}]},"small":{"dtype":"F32","shape":[4],"data_offsets":[{{{BigBytes}}},{{{BigBytes + 16}}}]}}""");
        var path = Path.Combine(_dir, "sparse.safetensors");
        using var stream = new FileStream(path, FileMode.CreateNew);
        Span<byte> length = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)header.Length);
        stream.Write(length);
        stream.Write(header);
        stream.SetLength(8 + header.Length + BigBytes + 16);
        stream.Seek(-16, SeekOrigin.End);
        stream.Write(HandBuilt.Le32(0x3F800000, 0x40000000, 0xC0400000, 0x41200000));
        return path;
    }

    static long ResidentBytes()
    {
        var line = File.ReadLines("/proc/self/status").First(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
        return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) * 1024;
    }

    [Fact]
    public void Loading_one_tensor_copies_only_its_bytes()
    {
        var path = WriteSparseFile();
        long before = ResidentBytes();
        using var file = SafetensorsFile.Open(path);
        using var small = file.Load("small");
        long grown = ResidentBytes() - before;

        Assert.Equal([1f, 2f, -3f, 10f], small.data<float>().ToArray());
        Assert.Equal(BigBytes, file.Info("big").ByteLength);
        // Reading the 3 GiB neighbour would add gigabytes of resident pages.
        Assert.True(grown < 256L << 20, $"resident memory grew by {grown} bytes");
        var e = Assert.Throws<NotSupportedException>(() => file.RawBytes("big"));
        Assert.Contains("'big'", e.Message);
    }

    /// <summary>Removes the 3 GiB file.</summary>
    public void Dispose() => Directory.Delete(_dir, recursive: true);
}
