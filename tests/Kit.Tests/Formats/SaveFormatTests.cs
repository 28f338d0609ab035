using Kit.Calibration;
using Kit.Data;
using Kit.Formats;
using Kit.Formats.CompressedTensors;
using Kit.Inference;
using Kit.Models;
using Kit.Quantization;
using static TorchSharp.torch;

namespace Kit.Tests.Formats;

/// <summary>kit quantize's formats, end to end on stories260K: written, reloaded, and equal to the dense result.</summary>
public sealed class SaveFormatTests
{
    static readonly CalibrationRequest Calibration = new(TestPaths.TinyStoriesText,
        new CalibrationOptions { NumSamples = 16, SequenceLength = 128, Seed = 0 });
    static readonly CompressionRecipe Gptq4 = new()
    {
        Method = CompressionMethod.Gptq, Scheme = "W4A16", Weights = QuantizationPresets.W4A16 with { Strategy = QuantizationStrategy.Channel, GroupSize = null },
    };
    static readonly long[] Prompt = { 1, 403, 407, 261, 378 };

    static Tensor Logits(string model)
    {
        using var lm = LanguageModel.Load(model, new ModelLoadOptions { Device = "cpu", ExactActivations = true });
        // Float32 activations: the packed layers then compute the dense product up to rounding, which is
        // what the format round trip must preserve (the default int8 activations move logits by ~0.2).
        Assert.All(lm.Model.DecoderLinears().Select(l => l.Module).OfType<QuantizedLinear>(), q => Assert.True(q.ExactActivations));
        return lm.Model.Forward(tensor(Prompt, 1, Prompt.Length));
    }

    [Fact]
    public void Compressed_tensors_reloads_packed_and_matches_the_dense_output()
    {
        var dir = TestPaths.NewTempDir();
        var options = new SequentialOptions { Device = "cpu" };
        ModelExport.CompressAndSave(TestPaths.Stories260K, Path.Combine(dir, "ct"), SaveFormat.CompressedTensors, Gptq4, Calibration, options);
        ModelExport.CompressAndSave(TestPaths.Stories260K, Path.Combine(dir, "dense"), SaveFormat.Dense, Gptq4, Calibration, options);

        Assert.True(CompressedTensorsReader.IsCompressedTensors(Path.Combine(dir, "ct")));
        using (var lm = LanguageModel.Load(Path.Combine(dir, "ct"), new ModelLoadOptions { Device = "cpu" }))
        {
            Assert.All(lm.Model.DecoderLinears(), l => Assert.False(Assert.IsType<QuantizedLinear>(l.Module).ExactActivations));
            // 35 packed Linears of 4-bit codes plus float32 scales, against 4 bytes per weight dense.
            using var dense = LanguageModel.Load(Path.Combine(dir, "dense"), new ModelLoadOptions { Device = "cpu" });
            Assert.True(lm.Model.WeightBytes < dense.Model.WeightBytes * 0.6, $"{lm.Model.WeightBytes} vs {dense.Model.WeightBytes}");
        }
        using var packed = Logits(Path.Combine(dir, "ct"));
        using var reference = Logits(Path.Combine(dir, "dense"));
        Assert.True(packed.allclose(reference, rtol: 0, atol: 1e-3), $"max |Δ| {(packed - reference).abs().max().item<float>()}");
    }

    [Fact]
    public void Gguf_output_loads_and_generates_like_the_dense_model()
    {
        var dir = TestPaths.NewTempDir();
        var options = new SequentialOptions { Device = "cpu" };
        var gguf = Path.Combine(dir, "model.gguf");
        ModelExport.CompressAndSave(TestPaths.Stories260K, gguf, SaveFormat.Gguf, Gptq4, Calibration, options);
        ModelExport.CompressAndSave(TestPaths.Stories260K, Path.Combine(dir, "dense"), SaveFormat.Dense, Gptq4, Calibration, options);
        Assert.Single(Directory.GetFileSystemEntries(dir, "model.gguf*"));
        Assert.Equal("stories260K", Gguf.SpecGgufReader.Read(gguf).Get("general.name").Value);

        using var fromGguf = Logits(gguf);
        using var dense = Logits(Path.Combine(dir, "dense"));
        // Scales round to fp16 in Q4_0 blocks and the 172-wide down projection is stored as F16: close, same predictions.
        Assert.True(fromGguf.allclose(dense, rtol: 0, atol: 0.25), $"max |Δ| {(fromGguf - dense).abs().max().item<float>()}");
        Assert.True(fromGguf.argmax(-1).equal(dense.argmax(-1)).all().item<bool>());
    }

    [Fact]
    public void Groups_that_do_not_tile_are_refused_for_compressed_tensors_before_any_work()
    {
        var output = Path.Combine(TestPaths.NewTempDir(), "ct");
        var recipe = Gptq4 with { Weights = QuantizationPresets.W4A16 with { GroupSize = 32 } };
        var e = Assert.Throws<ArgumentException>(() => ModelExport.CompressAndSave(TestPaths.Stories260K, output, SaveFormat.CompressedTensors,
            recipe, Calibration, new SequentialOptions { Device = "cpu" }));
        Assert.Contains("does not divide intermediate_size (172)", e.Message);
        Assert.False(Directory.Exists(output));
    }
}
