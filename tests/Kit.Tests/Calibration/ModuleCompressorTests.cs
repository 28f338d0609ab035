using Kit.Calibration;
using Kit.Quantization;
using static TorchSharp.torch;

namespace Kit.Tests.Calibration;

public sealed class ModuleCompressorTests
{
    const string SparseThenGptq = """
        sparsity_stage:
          sparsity_modifiers:
            SparseGPTModifier:
              sparsity: 0.5
              mask_structure: "2:4"
              targets: ["Linear"]
              ignore: ["re:.*lm_head"]
        quant_stage:
          quant_modifiers:
            GPTQModifier:
              ignore: ["lm_head"]
              config_groups:
                group_0:
                  weights: {num_bits: 4, type: int, symmetric: True, strategy: channel}
                  targets: ["Linear"]
        """;

    static (Tensor W, Tensor H) Layer()
    {
        var g = new TorchSharp.torch.Generator(7);
        var W = randn(16, 64, generator: g);
        // Correlated inputs, so that compensation matters.
        var X = randn(512, 8, generator: g).matmul(randn(8, 64, generator: g)) + 0.1 * randn(512, 64, generator: g);
        return (W, X.T.matmul(X) * (2.0 / 512));
    }

    static double Error(Tensor before, Tensor after, Tensor H)
    {
        var d = (before - after).to_type(ScalarType.Float64);
        return (d.matmul(H.to_type(ScalarType.Float64)) * d).sum().item<double>();
    }

    [Fact]
    public void Sparsegpt_then_gptq_keeps_the_pruned_zeros_and_ends_on_the_grid()
    {
        using var scope = NewDisposeScope();
        var (W, H) = Layer();
        var recipe = RecipeYaml.Parse(SparseThenGptq);
        const string name = "model.layers.0.mlp.down_proj";
        var result = ModuleCompressor.Compress(recipe, name, W, H);

        // Every weight SparseGPT pruned (2:4) is still exactly zero.
        var pruneOnly = ModuleCompressor.Compress(recipe with { PruneFirst = null, Method = CompressionMethod.SparseGpt, Weights = null, Sparsity = recipe.PruneFirst!.Sparsity }, W, H);
        var zeros = pruneOnly.Weight.eq(0);
        Assert.Equal(0.5, zeros.to_type(ScalarType.Float64).mean().item<double>());
        Assert.True(result.Weight.masked_select(zeros).eq(0).all().item<bool>(), "a pruned weight moved during GPTQ");
        // Quantized: the stored codes reproduce the weight, 4-bit symmetric per channel.
        Assert.NotNull(result.Quantized);
        Assert.True(result.Quantized!.Dequantize().eq(result.Weight.to_type(ScalarType.Float32)).all().item<bool>());
        Assert.Equal(QuantizationStrategy.Channel, result.Quantized.Args.Strategy);
        // One result for both steps: the pruning's mask (exactly the zeros it made) beside the quantization's codes.
        Assert.NotNull(result.Mask);
        Assert.True(result.Mask!.eq(zeros).all().item<bool>());
        Assert.Equal(0.5, result.Sparsity);
        Assert.True(result.Elapsed > TimeSpan.Zero);

        // GPTQ on the pruned weight beats rounding it: the point of running GPTQ after SparseGPT.
        var rtn = Rtn.Quantize(pruneOnly.Weight, recipe.Weights!).Dequantize();
        Assert.True(rtn.eq(0).logical_or(zeros.logical_not()).all().item<bool>());
        double gptqError = Error(W, result.Weight, H), rtnError = Error(W, rtn, H);
        Assert.True(gptqError < 0.9 * rtnError, $"GPTQ after pruning {gptqError:E3} vs RTN after pruning {rtnError:E3}");
    }

    [Fact]
    public void Gptq_with_a_pruned_mask_never_moves_a_pruned_weight()
    {
        using var scope = NewDisposeScope();
        var (W, H) = Layer();
        var pruned = rand(W.shape, generator: new TorchSharp.torch.Generator(3)).lt(0.6);
        var masked = W.masked_fill(pruned, 0);
        foreach (var order in new[] { ActOrder.None, ActOrder.Static, ActOrder.Group })
        {
            var args = QuantizationPresets.W4A16 with { GroupSize = 16 };
            using var result = Gptq.Quantize(masked, H, args, new GptqOptions { ActOrder = order, BlockSize = 8 }, pruned);
            Assert.True(result.Weight.masked_select(pruned).eq(0).all().item<bool>(), $"{order}: a pruned weight moved");
            // Without the mask GPTQ's updates fill the zeros in.
            using var free = Gptq.Quantize(masked, H, args, new GptqOptions { ActOrder = order, BlockSize = 8 });
            Assert.True(free.Weight.masked_select(pruned).ne(0).any().item<bool>());
        }
    }
}
