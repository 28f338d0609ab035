using Kit.Inference.Kernels;
using Kit.Models;
using Kit.Tests.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Kit.Tests.Inference.Kernels;

public sealed class DenseSkinnyMatmulTests
{
    static float[] Random(int count, int seed)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, count).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
    }

    // 61 and 77 columns leave a tail after the 32- and 16-column vectors; 2048 is a model's hidden size.
    [Theory]
    [InlineData(40, 61, 1)]
    [InlineData(33, 77, 3)]
    [InlineData(200, 2048, 4)]
    [InlineData(129, 96, 9)]
    [InlineData(70, 128, 16)]
    public void Every_path_matches_a_float64_reference(int outFeatures, int inFeatures, int rows)
    {
        var weight = Random(outFeatures * inFeatures, 1);
        var x = Random(rows * inFeatures, 2);
        foreach (var path in new[] { KernelPath.Scalar, KernelPath.Avx2, KernelPath.Avx512 })
        {
            var y = new float[rows * outFeatures];
            DenseSkinnyMatmul.Multiply(weight, outFeatures, inFeatures, x, rows, y, path);
            for (int b = 0; b < rows; b++)
                for (int r = 0; r < outFeatures; r++)
                {
                    double expected = 0;
                    for (int k = 0; k < inFeatures; k++) expected += (double)weight[r * inFeatures + k] * x[b * inFeatures + k];
                    // float32 sums of products of magnitude ≤ 1: error ≤ in · 2^-23 · Σ|w·x| ≲ 1e-4 for 2048 columns
                    Assert.True(Math.Abs(y[b * outFeatures + r] - expected) <= 2e-6 * inFeatures, $"{path} row {b} out {r}: {y[b * outFeatures + r]} vs {expected}");
                }
        }
    }

    [Fact]
    public void A_row_in_a_batch_gets_exactly_what_it_gets_alone()
    {
        const int outFeatures = 300, inFeatures = 2048 + 24;
        var weight = Random(outFeatures * inFeatures, 3);
        foreach (int rows in new[] { 2, 3, 4, 5, 8, 11, 16 })
        {
            var x = Random(rows * inFeatures, rows);
            var batched = new float[rows * outFeatures];
            DenseSkinnyMatmul.Multiply(weight, outFeatures, inFeatures, x, rows, batched);
            for (int b = 0; b < rows; b++)
            {
                var alone = new float[outFeatures];
                DenseSkinnyMatmul.Multiply(weight, outFeatures, inFeatures, x.AsSpan(b * inFeatures, inFeatures), 1, alone);
                Assert.Equal(alone, batched.AsSpan(b * outFeatures, outFeatures).ToArray());
            }
        }
    }

    [Fact]
    public void Wrong_lengths_name_the_argument()
    {
        var e = Assert.Throws<ArgumentException>(() => DenseSkinnyMatmul.Multiply(new float[12], 3, 4, new float[7], 2, new float[6]));
        Assert.Equal("x", e.ParamName);
        e = Assert.Throws<ArgumentException>(() => DenseSkinnyMatmul.Multiply(new float[11], 3, 4, new float[8], 2, new float[6]));
        Assert.Equal("weight", e.ParamName);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_float32_models_head_gives_libtorchs_logits_for_a_few_rows(bool tied)
    {
        // Three rows go through the kernel, twenty through libtorch's Linear: the same three ids lead both batches.
        var config = TinyModels.Llama(tied);
        using var model = TinyModels.Build(config, TinyModels.RandomWeights(config, seed: 4), ScalarType.Float32);
        using var _ = no_grad();
        long[] ids = Enumerable.Range(0, 20).Select(i => (long)(i * 7 % config.VocabSize)).ToArray();
        using var few = model.Forward(tensor(ids[..3], 3, 1), Caches(config, 3), lastOnly: true);
        using var many = model.Forward(tensor(ids, 20, 1), Caches(config, 20), lastOnly: true);
        Assert.True(few.allclose(many[..3], rtol: 1e-5, atol: 1e-6));
    }

    static KvCache[] Caches(Kit.Models.ModelConfig config, int count) =>
        Enumerable.Range(0, count).Select(_ => new KvCache(config.NumHiddenLayers)).ToArray();
}
