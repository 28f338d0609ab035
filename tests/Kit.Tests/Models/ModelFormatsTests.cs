using Kit.Models;

namespace Kit.Tests.Models;

public sealed class ModelFormatsTests
{
    [Fact]
    public void Formats_registers_gguf_then_compressed_tensors_then_2_of_4_as_kit_loads()
    {
        // Compressed-tensors before 2:4: a pruned and quantized folder carries both marks and must load packed.
        Assert.Equal(new[] { "gguf", "compressed-tensors", "dense, pruned 2:4" }, ModelFormats.All.Select(f => f.Name));
    }

    [Fact]
    public void A_second_format_of_the_same_name_is_refused()
    {
        var e = Assert.Throws<ArgumentException>(() => ModelFormats.Register(ModelFormats.All[0]));
        Assert.Contains("'gguf' is registered already", e.Message);
    }

    [Fact]
    public void A_dense_folder_is_no_registered_format() => Assert.Null(ModelFormats.For(TestPaths.Stories260K));
}
