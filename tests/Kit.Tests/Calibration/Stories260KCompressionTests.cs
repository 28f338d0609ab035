using Kit.Calibration;
using Kit.Data;
using Kit.Evaluation;
using Kit.Models;
using Kit.Models.Safetensors;
using Kit.Quantization;
using Kit.Quantization.Transforms;
using static TorchSharp.torch;

namespace Kit.Tests.Calibration;

/// <summary>The papers' headline orderings, reproduced on a real pretrained Llama with real text.</summary>
[Trait("Category", "Slow")]
public sealed class Stories260KCompressionTests
{
    static string TinyStories => TestPaths.TinyStoriesText;
    static readonly CalibrationRequest Calibration = new(TinyStories, new CalibrationOptions { NumSamples = 64, SequenceLength = 128, Seed = 0 });
    static readonly string HeldOut = File.ReadAllText(TinyStories)[^60_000..];

    static (string Folder, double Perplexity) Compress(CompressionRecipe recipe)
    {
        var folder = Path.Combine(TestPaths.NewTempDir(), "model");
        ModelCompression.Compress(TestPaths.Stories260K, folder, recipe, recipe.NeedsCalibration ? Calibration : null,
            new SequentialOptions { Device = "cpu", Format = SaveFormat.Dense });
        using var lm = LanguageModel.Load(folder, new ModelLoadOptions { Device = "cpu" });
        return (folder, lm.Perplexity(HeldOut, seqLen: 256).Value);
    }

    static IEnumerable<(string Name, float[] Values, long Rows, long Columns)> TargetWeights(string folder)
    {
        using var checkpoint = SafetensorsCheckpoint.Open(folder);
        foreach (var name in checkpoint.Names.Where(n => n.Contains("_proj.weight")))
        {
            using var t = checkpoint.Load(name, ScalarType.Float32);
            yield return (name, t.data<float>().ToArray(), t.shape[0], t.shape[1]);
        }
    }

    // A run of values lies on a symmetric b-bit grid when some scale s makes every value an integer code in
    // [−2^(b−1), 2^(b−1) − 1]; the largest |value| has a code of magnitude k in 1..2^(b−1), so s = max|v| / k.
    static bool OnSymmetricGrid(ReadOnlySpan<float> values, int bits)
    {
        double max = 0;
        foreach (var v in values) max = Math.Max(max, Math.Abs(v));
        if (max == 0) return true;
        int half = 1 << (bits - 1);
        for (int k = 1; k <= half; k++)
        {
            double s = max / k;
            bool ok = true;
            foreach (var v in values)
            {
                double c = v / s, r = Math.Round(c);
                if (Math.Abs(c - r) > 1e-3 || r < -half || r > half - 1) { ok = false; break; }
            }
            if (ok) return true;
        }
        return false;
    }

    [Fact]
    public void Gptq_4bit_beats_rtn_4bit_at_the_same_group_size_and_every_weight_is_on_its_grid()
    {
        var args = QuantizationPresets.W4A16 with { GroupSize = 32 };
        var (gptqFolder, gptq) = Compress(new CompressionRecipe { Method = CompressionMethod.Gptq, Scheme = "W4A16", Weights = args });
        var (_, rtn) = Compress(new CompressionRecipe { Method = CompressionMethod.Rtn, Scheme = "W4A16", Weights = args });
        double dense;
        using (var lm = LanguageModel.Load(TestPaths.Stories260K, new ModelLoadOptions { Device = "cpu" }))
            dense = lm.Perplexity(HeldOut, seqLen: 256).Value;

        Assert.True(dense < gptq && gptq < rtn, $"perplexity: dense {dense:F3}, GPTQ {gptq:F3}, RTN {rtn:F3}");
        foreach (var (name, values, rows, columns) in TargetWeights(gptqFolder))
            for (int r = 0; r < rows; r++)
                for (int g = 0; g < columns; g += 32)
                    Assert.True(OnSymmetricGrid(values.AsSpan((int)(r * columns + g), (int)Math.Min(32, columns - g)), 4), $"{name} row {r} group {g / 32}");
    }

    [Fact]
    public void Sparsegpt_2of4_beats_magnitude_2of4_and_every_group_of_four_has_two_zeros()
    {
        var pattern = SparsityPattern.NOfM(2, 4);
        var (sparseGptFolder, sparseGpt) = Compress(new CompressionRecipe { Method = CompressionMethod.SparseGpt, Sparsity = pattern });
        var (magnitudeFolder, magnitude) = Compress(new CompressionRecipe { Method = CompressionMethod.Magnitude, Sparsity = pattern });

        Assert.True(sparseGpt < magnitude, $"perplexity: SparseGPT 2:4 {sparseGpt:F3}, magnitude 2:4 {magnitude:F3}");
        foreach (var folder in new[] { sparseGptFolder, magnitudeFolder })
            foreach (var (name, values, _, _) in TargetWeights(folder))
                for (int i = 0; i < values.Length; i += 4)
                    Assert.True(values.AsSpan(i, 4).Count(0f) == 2, $"{name} at {i}: [{string.Join(", ", values[i..(i + 4)])}]");
    }

    [Fact]
    public void Same_seed_gives_the_same_compressed_model()
    {
        var recipe = new CompressionRecipe { Method = CompressionMethod.Gptq, Scheme = "W4A16", Weights = QuantizationPresets.W4A16 with { GroupSize = 32 } };
        var (a, _) = Compress(recipe);
        var (b, _) = Compress(recipe);
        foreach (var ((name, x, _, _), (_, y, _, _)) in TargetWeights(a).Zip(TargetWeights(b)))
            Assert.True(x.AsSpan().SequenceEqual(y), name);
    }

    static readonly QuantizationArgs PerChannel3 = new() { NumBits = 3, Symmetric = true, Strategy = QuantizationStrategy.Channel, GroupSize = null };

    [Fact]
    public void Awq_scales_lower_3bit_perplexity_for_rtn_and_for_gptq_and_the_weights_stay_on_their_grids()
    {
        var rtn = new CompressionRecipe { Method = CompressionMethod.Rtn, Scheme = "W4A16", Weights = PerChannel3 };
        var gptq = rtn with { Method = CompressionMethod.Gptq };
        var (_, rtnAlone) = Compress(rtn);
        var (awqFolder, rtnAfterAwq) = Compress(rtn with { Smoothing = new AwqOptions() });
        var (_, gptqAlone) = Compress(gptq);
        var (_, gptqAfterAwq) = Compress(gptq with { Smoothing = new AwqOptions() });

        Assert.True(rtnAfterAwq < rtnAlone, $"perplexity: RTN {rtnAlone:F3}, AWQ + RTN {rtnAfterAwq:F3}");
        Assert.True(gptqAfterAwq < gptqAlone, $"perplexity: GPTQ {gptqAlone:F3}, AWQ + GPTQ {gptqAfterAwq:F3}");
        // The scales went into the norms and up_proj's rows: what is saved is a plain Llama whose Linears are on a 3-bit grid.
        foreach (var (name, values, rows, columns) in TargetWeights(awqFolder))
            for (int r = 0; r < rows; r++)
                Assert.True(OnSymmetricGrid(values.AsSpan((int)(r * columns), (int)columns), 3), $"{name} row {r}");
        using var checkpoint = SafetensorsCheckpoint.Open(awqFolder);
        using var originalCheckpoint = SafetensorsCheckpoint.Open(TestPaths.Stories260K);
        Assert.Contains(checkpoint.Names.Where(n => n.EndsWith("layernorm.weight")), name =>
        {
            using var norm = checkpoint.Load(name);
            using var original = originalCheckpoint.Load(name);
            return !norm.equal(original).all().item<bool>();
        });
    }

    [Fact]
    public void A_rotated_model_is_saved_as_a_plain_untied_llama_that_computes_what_the_original_does()
    {
        // At 8 bits the rounding is small enough that the rotated checkpoint's perplexity must match the dense model's.
        var w8 = new QuantizationArgs { NumBits = 8, Symmetric = true, Strategy = QuantizationStrategy.Channel, GroupSize = null };
        var (folder, rotated) = Compress(new CompressionRecipe { Method = CompressionMethod.Rtn, Scheme = "W8A16", Weights = w8, Rotation = new RotationOptions() });
        double dense;
        using (var lm = LanguageModel.Load(TestPaths.Stories260K, new ModelLoadOptions { Device = "cpu" }))
            dense = lm.Perplexity(HeldOut, seqLen: 256).Value;
        Assert.True(Math.Abs(rotated - dense) < 0.01 * dense, $"perplexity: dense {dense:F4}, rotated at 8 bits {rotated:F4}");

        var config = ModelConfig.Load(Path.Combine(folder, "config.json"));
        Assert.False(config.TieWordEmbeddings);
        using var checkpoint = SafetensorsCheckpoint.Open(folder);
        Assert.Contains("lm_head.weight", checkpoint.Names);
        foreach (var name in checkpoint.Names.Where(n => n.EndsWith("norm.weight")))
        {
            using var norm = checkpoint.Load(name);
            Assert.True(norm.eq(1).all().item<bool>(), name);
        }
    }

    [Fact]
    public void Gptaq_lowers_3bit_perplexity_below_gptq()
    {
        var gptq = new CompressionRecipe { Method = CompressionMethod.Gptq, Scheme = "W4A16", Weights = PerChannel3 };
        var (_, plain) = Compress(gptq);
        var (folder, asymmetric) = Compress(gptq with { AsymmetricCalibration = Gptaq.DefaultStrength });
        Assert.True(asymmetric < 0.95 * plain, $"perplexity: GPTQ {plain:F3}, GPTAQ {asymmetric:F3}");
        foreach (var (name, values, rows, columns) in TargetWeights(folder))
            for (int r = 0; r < rows; r++)
                Assert.True(OnSymmetricGrid(values.AsSpan((int)(r * columns), (int)columns), 3), $"{name} row {r}");
    }
}
