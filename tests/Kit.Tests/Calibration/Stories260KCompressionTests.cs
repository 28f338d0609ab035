using Kit.Calibration;
using Kit.Data;
using Kit.Evaluation;
using Kit.Models;
using Kit.Models.Safetensors;
using Kit.Quantization;
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
}
