using System.Buffers.Binary;
using Kit.Models.Safetensors;

namespace Kit.Tests.Models.Safetensors;

public sealed class SafetensorsValidationTests
{
    readonly string _dir = TestPaths.NewTempDir();

    [Theory]
    [InlineData("""{"w":{"dtype":"C64","shape":[1],"data_offsets":[0,8]}}""", 8, "'w'", "C64")]
    [InlineData("""{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,16]}}""", 8, "'w'", "past the data section")]
    [InlineData("""{"w":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}""", 8, "'w'", "needs 12")]
    [InlineData("""{"w":{"dtype":"BF16","shape":[2,2],"data_offsets":[0,4]}}""", 8, "'w'", "needs 8")]
    [InlineData("""{"w":{"dtype":"F32","shape":[1],"data_offsets":[8,4]}}""", 8, "'w'", "not a range")]
    [InlineData("""{"w":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}""", 8, "'w'", "negative")]
    [InlineData("""{"w":{"dtype":"F32","data_offsets":[0,4]}}""", 8, "'w'", "shape")]
    [InlineData("""{"w":{"dtype":"F32","shape":[1]}}""", 8, "'w'", "data_offsets")]
    [InlineData("""{"w":{"dtype":"F32","shape":[1],"data_offsets":[0]}}""", 8, "'w'", "data_offsets")]
    [InlineData("""{"w":{"dtype":"F32","shape":[1.5],"data_offsets":[0,4]}}""", 8, "'w'", "integers")]
    [InlineData("""{"w":{"shape":[1],"data_offsets":[0,4]}}""", 8, "'w'", "dtype")]
    [InlineData("""{"w":[1,2]}""", 8, "'w'", "object")]
    [InlineData("""{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"w":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}""", 8, "'w'", "overlap")]
    [InlineData("""{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"w":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}""", 8, "'w'", "twice")]
    [InlineData("""{"__metadata__":{"step":3}}""", 0, "__metadata__.step", "string")]
    [InlineData("""{"w":{"dtype":"F32","shape":[4611686018427387904,4],"data_offsets":[0,4]}}""", 8, "'w'", "overflow")]
    [InlineData("""[1,2]""", 0, "header", "object")]
    [InlineData("""{"w": """, 0, "header", "JSON")]
    public void Bad_header_is_rejected_naming_the_file_and_the_entry(string header, int dataBytes, string names, string reason)
    {
        var path = HandBuilt.File(_dir, "bad.safetensors", header, new byte[dataBytes]);
        var e = Assert.Throws<InvalidDataException>(() => SafetensorsFile.Open(path));
        Assert.Contains(path, e.Message);
        Assert.Contains(names, e.Message);
        Assert.Contains(reason, e.Message);
    }

    [Fact]
    public void File_shorter_than_the_length_prefix_is_rejected()
    {
        var path = Path.Combine(_dir, "short.safetensors");
        File.WriteAllBytes(path, [1, 2, 3]);
        var e = Assert.Throws<InvalidDataException>(() => SafetensorsFile.Open(path));
        Assert.Contains(path, e.Message);
        Assert.Contains("too short", e.Message);
    }

    [Fact]
    public void Empty_file_is_rejected()
    {
        var path = Path.Combine(_dir, "empty.safetensors");
        File.WriteAllBytes(path, []);
        var e = Assert.Throws<InvalidDataException>(() => SafetensorsFile.Open(path));
        Assert.Contains(path, e.Message);
    }

    [Fact]
    public void Truncated_header_is_rejected()
    {
        // The length prefix promises 200 header bytes but the file ends after 20.
        var bytes = new byte[28];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, 200);
        "{\"w\":{\"dtype\":\"F32\","u8.ToArray().CopyTo(bytes, 8);
        var path = Path.Combine(_dir, "truncated.safetensors");
        File.WriteAllBytes(path, bytes);
        var e = Assert.Throws<InvalidDataException>(() => SafetensorsFile.Open(path));
        Assert.Contains(path, e.Message);
        Assert.Contains("header length 200", e.Message);
    }

    [Fact]
    public void Huge_header_length_is_rejected_without_allocating_it()
    {
        var bytes = new byte[16];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, ulong.MaxValue);
        var path = Path.Combine(_dir, "huge.safetensors");
        File.WriteAllBytes(path, bytes);
        var e = Assert.Throws<InvalidDataException>(() => SafetensorsFile.Open(path));
        Assert.Contains(path, e.Message);
    }

    [Fact]
    public void Truncated_data_is_rejected()
    {
        // A valid header whose tensor ends 4 bytes past the end of the file.
        var path = HandBuilt.File(_dir, "cut.safetensors", """{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}""", new byte[4]);
        var e = Assert.Throws<InvalidDataException>(() => SafetensorsFile.Open(path));
        Assert.Contains("'w'", e.Message);
        Assert.Contains("4 bytes", e.Message);
    }

    [Fact]
    public void Missing_file_is_reported_with_its_path()
    {
        var path = Path.Combine(_dir, "absent.safetensors");
        var e = Assert.Throws<FileNotFoundException>(() => SafetensorsFile.Open(path));
        Assert.Contains(path, e.Message);
    }
}
