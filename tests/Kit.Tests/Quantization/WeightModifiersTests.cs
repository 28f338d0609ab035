using Kit.Calibration;
using Kit.Quantization;
using Kit.Quantization.Modifiers;
using static TorchSharp.torch;

namespace Kit.Tests.Quantization;

public sealed class WeightModifiersTests
{
    static readonly CompressionRecipe SparseThenGptq = new()
    {
        Method = CompressionMethod.Gptq, Weights = QuantizationPresets.W4A16, BlockSize = 64, DampeningFraction = 0.05, ActOrder = ActOrder.Group,
        Ignore = ["lm_head", "re:.*down_proj"],
        PruneFirst = new PruningStep { Method = CompressionMethod.SparseGpt, Sparsity = SparsityPattern.NOfM(2, 4), BlockSize = 32, Ignore = ["lm_head"] },
    };

    [Fact]
    public void A_module_gets_the_pruning_step_then_the_recipes_method_where_each_applies()
    {
        var both = WeightModifiers.For(SparseThenGptq, "model.layers.0.self_attn.q_proj");
        Assert.Equal(new[] { CompressionMethod.SparseGpt, CompressionMethod.Gptq }, both.Select(m => m.Method));
        var prune = Assert.IsType<SparseGptModifier>(both[0]);
        Assert.Equal((SparsityPattern.NOfM(2, 4), 32, 0.01), (prune.Options.Pattern, prune.Options.BlockSize, prune.Options.DampeningFraction));
        Assert.Null(prune.Quantize);
        var gptq = Assert.IsType<GptqModifier>(both[1]);
        Assert.Equal((64, 0.05, ActOrder.Group), (gptq.Options.BlockSize, gptq.Options.DampeningFraction, gptq.Options.ActOrder));
        Assert.Equal(QuantizationPresets.W4A16, gptq.Args);

        Assert.Equal(new[] { CompressionMethod.SparseGpt }, WeightModifiers.For(SparseThenGptq, "model.layers.0.mlp.down_proj").Select(m => m.Method));
        Assert.Empty(WeightModifiers.For(SparseThenGptq, "lm_head"));
    }

    [Theory]
    [InlineData(CompressionMethod.Rtn, typeof(RtnModifier), false)]
    [InlineData(CompressionMethod.Gptq, typeof(GptqModifier), true)]
    [InlineData(CompressionMethod.SparseGpt, typeof(SparseGptModifier), true)]
    [InlineData(CompressionMethod.Magnitude, typeof(MagnitudeModifier), false)]
    [InlineData(CompressionMethod.Wanda, typeof(WandaModifier), true)]
    public void Each_method_is_one_modifier(CompressionMethod method, Type modifier, bool needsHessian)
    {
        bool prunes = method is CompressionMethod.SparseGpt or CompressionMethod.Magnitude or CompressionMethod.Wanda;
        var recipe = new CompressionRecipe
        {
            Method = method, Weights = method is CompressionMethod.Rtn or CompressionMethod.Gptq ? QuantizationPresets.W8A16 : null,
            Sparsity = prunes ? SparsityPattern.Unstructured(0.5) : null,
        }.Validated();
        var only = Assert.Single(WeightModifiers.For(recipe, "model.layers.1.mlp.up_proj"));
        Assert.IsType(modifier, only);
        Assert.Equal(needsHessian, only.NeedsHessian);
    }

    [Fact]
    public void A_module_no_modifier_applies_to_comes_back_unchanged()
    {
        using var scope = NewDisposeScope();
        var w = randn(4, 8, generator: new TorchSharp.torch.Generator(1));
        var result = ModuleCompressor.Compress(SparseThenGptq, "lm_head", w, null);
        Assert.True(result.Weight.equal(w).all().item<bool>());
        Assert.Null(result.Quantized);
        Assert.Null(result.Mask);
    }

    [Fact]
    public void A_modifier_that_needs_calibration_says_so_without_it()
    {
        using var scope = NewDisposeScope();
        var e = Assert.Throws<ArgumentException>(() => ModuleCompressor.Compress(SparseThenGptq, "model.layers.0.self_attn.q_proj", randn(4, 8), null));
        Assert.Contains("SparseGpt needs calibration data", e.Message);
    }
}
