using Kit.Calibration.Transforms;
using Kit.Models;
using Kit.Models.Safetensors;
using Kit.Quantization;
using Kit.Quantization.Transforms;
using Kit.Tests.Calibration;
using static TorchSharp.torch;

namespace Kit.Tests.Calibration.Transforms;

/// <summary>
/// Rotations and smoothing fold into the weights and must leave the model's function alone: checked on stories260K in
/// float64 (8 query heads over 4 key-value heads, so grouped-query attention is covered), where rounding cannot hide a
/// wrong fold.
/// </summary>
public sealed class FunctionPreservingTransformsTests
{
    static CausalLM Stories260KInFloat64(out ModelConfig config)
    {
        // The checkpoint carries lm_head.weight; loading it untied gives the head a tensor of its own to rotate.
        config = ModelConfig.Load(Path.Combine(TestPaths.Stories260K, "config.json")) with { TieWordEmbeddings = false };
        using var checkpoint = SafetensorsCheckpoint.Open(TestPaths.Stories260K);
        return CausalLM.FromCheckpoint(config, checkpoint, ScalarType.Float64, CPU);
    }

    static Tensor Tokens() => tensor(SequentialCompressorTests.TinyStoriesWindows(2, 48, seed: 5).SelectMany(w => w.Select(t => (long)t)).ToArray()).view(2, 48);

    [Theory]
    [InlineData(RotationKind.RandomHadamard, true)]
    [InlineData(RotationKind.RandomMatrix, true)]
    [InlineData(RotationKind.Hadamard, false)]
    public void Rotating_the_residual_stream_and_the_heads_keeps_the_logits(RotationKind kind, bool heads)
    {
        using var model = Stories260KInFloat64(out var config);
        using var ids = Tokens();
        using var before = model.Forward(ids);
        using var rotation = new ResidualRotation(config, new RotationOptions { Kind = kind, RotateHeads = heads, Seed = 11 }, CPU);
        var embedding = model.Model.EmbedTokens.weight!;
        using (no_grad()) embedding.set_(rotation.Embedding(embedding));
        foreach (var layer in model.Model.Layers) rotation.Rotate(layer);
        rotation.RotateHead((Linear)model.LmHead, model.Model.Norm);
        using var after = model.Forward(ids);

        Assert.True((after - before).abs().max().item<double>() < 1e-9 * before.abs().max().item<double>());
        // Folded, not merely composed: the norms are plain again and the weights really changed.
        Assert.True(model.Model.Layers[0].InputLayerNorm.Weight.eq(1).all().item<bool>());
        Assert.True(model.Model.Norm.Weight.eq(1).all().item<bool>());
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Smoothing_folds_its_scales_into_the_layer_without_changing_the_logits(bool awq)
    {
        using var model = Stories260KInFloat64(out _);
        using var ids = Tokens();
        using var before = model.Forward(ids);
        var grid = new QuantizationArgs { NumBits = 3, Symmetric = true, Strategy = QuantizationStrategy.Channel, GroupSize = null };
        var recipe = new CompressionRecipe
        {
            Method = CompressionMethod.Rtn, Scheme = "W4A16", Weights = grid,
            Smoothing = awq ? new AwqOptions { Grid = 8 } : new SmoothQuantOptions { Strength = 0.5 },
        };
        var reports = new List<SmoothingReport>();
        var original = model.named_parameters().ToDictionary(p => p.name, p => p.parameter.clone());
        for (int i = 0; i < model.Config.NumHiddenLayers; i++)
            reports.AddRange(LayerSmoothing.Apply(model.Model.Layers[i], i, $"model.layers.{i}.", recipe, grid, () => model.Forward(ids).Dispose()));
        using var after = model.Forward(ids);

        Assert.True((after - before).abs().max().item<double>() < 1e-9 * before.abs().max().item<double>());
        // AWQ: both norms and up → down per layer; v → o is skipped, its 32 outputs feed 64 inputs of o_proj (GQA).
        // SmoothQuant: the two norms.
        Assert.Equal((awq ? 3 : 2) * 5, reports.Count);
        Assert.DoesNotContain(reports, r => r.Smooth.EndsWith("v_proj"));
        if (awq) Assert.All(reports, r => Assert.True(r.Error <= r.UnscaledError, r.Smooth));
        Assert.Contains(reports, r => r.Ratio is not null);
        // Folded: the weights themselves changed.
        Assert.Contains(model.named_parameters(), p => !p.parameter.equal(original[p.name]).all().item<bool>());
    }
}
