using Kit.Models.Safetensors;
using static TorchSharp.torch;

namespace Kit.Tests.Models.Safetensors;

public sealed unsafe class TensorMemoryTests
{
    [Fact]
    public void Address_points_at_the_first_element_of_views_with_an_offset()
    {
        using var t = arange(0, 100, dtype: ScalarType.Float32);
        using var slice = t.narrow(0, 37, 10);
        byte* whole = TensorMemory.Address(t), part = TensorMemory.Address(slice);
        Assert.Equal(37 * sizeof(float), part - whole);
        Assert.Equal(37f, *(float*)part);
        using var rows = arange(0, 24, dtype: ScalarType.Int64).reshape(4, 6)[2..];
        Assert.Equal(12L, *(long*)TensorMemory.Address(rows));
    }

    [Fact]
    public void Raw_access_refuses_strided_tensors()
    {
        using var t = zeros(4, 6).t();
        Assert.Throws<ArgumentException>(() => (nint)TensorMemory.Address(t));
    }
}
