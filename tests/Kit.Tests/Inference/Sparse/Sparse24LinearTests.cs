using Kit.Inference.Sparse;
using TorchSharp;
using static TorchSharp.torch;

namespace Kit.Tests.Inference.Sparse;

public sealed class Sparse24LinearTests
{
    // Float64 x · Wᵀ + b and Σ|x·w| + |b| for the tolerance, from the dense weight.
    static void AssertClose(Tensor y, Tensor x, Tensor w, Tensor? bias, double tolerance)
    {
        var x64 = x.to_type(ScalarType.Float64).reshape(-1, w.shape[1]);
        var w64 = w.to_type(ScalarType.Float64);
        var reference = x64.matmul(w64.t());
        var magnitude = x64.abs().matmul(w64.abs().t());
        if (bias is not null)
        {
            reference += bias.to_type(ScalarType.Float64);
            magnitude += bias.to_type(ScalarType.Float64).abs();
        }
        var error = (y.to_type(ScalarType.Float64).reshape(reference.shape) - reference).abs();
        double worst = (error / (magnitude + 1e-30)).max().item<double>();
        Assert.True(worst <= tolerance, $"worst error relative to Σ|x·w| is {worst}");
    }

    [Theory]
    [InlineData(new long[] { 1, 1, 200 }, 1 << 24)]     // decode: the kernel
    [InlineData(new long[] { 5, 200 }, 1 << 24)]
    [InlineData(new long[] { 32, 200 }, 1 << 24)]        // the largest kernel batch
    [InlineData(new long[] { 2, 20, 200 }, 1 << 24)]     // prefill: the weight expanded in one piece
    [InlineData(new long[] { 2, 20, 200 }, 200 * 16)]    // prefill in tiles of 16 rows (and a last one of 2)
    public void Forward_equals_the_dense_linear(long[] shape, int tileElements)
    {
        using var scope = NewDisposeScope();
        var w = Sparse24TestData.Tensor(Sparse24TestData.Weight(50, 200, seed: 11));
        var bias = randn(50, generator: new Generator(4));
        using var layer = Sparse24Linear.From(w, bias);
        layer.TileElements = tileElements;
        var x = randn(shape, generator: new Generator(5));
        var y = layer.call(x);
        Assert.Equal(shape[..^1].Append(50).ToArray(), y.shape);
        Assert.Equal(ScalarType.Float32, y.dtype);
        AssertClose(y, x, w, bias, 1e-5);
    }

    [Fact]
    public void Bfloat16_values_expand_tile_by_tile_and_return_bfloat16()
    {
        using var scope = NewDisposeScope();
        var w = Sparse24TestData.Tensor(Sparse24TestData.Weight(32, 64, seed: 12)).to_type(ScalarType.BFloat16);
        using var layer = Sparse24Linear.From(w);
        layer.TileElements = 64 * 10;   // expanded by tensor ops in tiles of 10 rows, the last of 2
        var x = randn(new long[] { 3, 64 }, generator: new Generator(6)).to_type(ScalarType.BFloat16);
        var y = layer.call(x);
        Assert.Equal(ScalarType.BFloat16, y.dtype);
        // bf16 keeps 8 significant bits: the exact product rounded to that.
        AssertClose(y, x, w, null, 1e-2);
        Assert.Equal(32 * (32 * 2 + 8), layer.WeightBytes);
    }

    [Fact]
    public void A_dtype_change_converts_the_values_and_keeps_the_positions()
    {
        using var scope = NewDisposeScope();
        var w = Sparse24TestData.Tensor(Sparse24TestData.Weight(16, 32, seed: 13));
        using var layer = Sparse24Linear.From(w);
        var mask = layer.Mask;
        layer.to(ScalarType.Float64);
        Assert.Equal(ScalarType.Float64, layer.Weight.Values.dtype);
        Assert.Equal(ScalarType.Byte, layer.Weight.Metadata.dtype);
        Assert.True(layer.Mask.eq(mask).all().item<bool>());
        var x = randn(new long[] { 2, 32 }, ScalarType.Float64, generator: new Generator(7));
        AssertClose(layer.call(x), x, w, null, 1e-12);
    }
}
