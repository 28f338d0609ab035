using Kit.Inference.Sparse;

namespace Kit.Tests.Inference.Sparse;

public sealed class Sparse24MatmulTests
{
    public static TheoryData<int, int, int> Shapes() => new()
    {
        // 25 groups per row: 3 AVX-512 steps and a scalar tail; 6 AVX2 steps and a tail.
        { 1, 37, 100 }, { 2, 37, 100 }, { 3, 37, 100 }, { 4, 37, 100 }, { 5, 37, 100 },
        // Enough work to split the rows over threads; 130 groups: tails of 2.
        { 1, 300, 520 }, { 5, 300, 520 },
        // Fewer groups than one vector step: the scalar loop alone.
        { 3, 9, 12 },
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Every_instruction_set_matches_the_float64_dense_product(int batch, int rows, int columns)
    {
        var w = Sparse24TestData.Weight(rows, columns, seed: rows + columns);
        using var dense = Sparse24TestData.Tensor(w);
        using var weight = Sparse24Weight.From(dense);
        var x = Sparse24TestData.Input(batch * columns, seed: batch);
        var reference = Sparse24TestData.Reference(x, batch, w);
        foreach (var path in Enum.GetValues<Sparse24Path>())
        {
            var y = new float[batch * rows];
            Sparse24Matmul.Multiply(weight, x, batch, y, path);
            Sparse24TestData.AssertClose(y, reference, 1e-5, $"{path} (best on this CPU: {Sparse24Matmul.Best})");
        }
    }

    [Fact]
    public void A_bfloat16_weight_is_refused_by_the_float32_kernel()
    {
        using var dense = Sparse24TestData.Tensor(Sparse24TestData.Weight(4, 8, seed: 1), TorchSharp.torch.ScalarType.BFloat16);
        using var weight = Sparse24Weight.From(dense);
        var e = Assert.Throws<ArgumentException>(() => Sparse24Matmul.Multiply(weight, new float[8], 1, new float[4]));
        Assert.Contains("float32", e.Message);
    }
}
