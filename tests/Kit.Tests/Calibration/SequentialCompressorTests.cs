using Kit.Calibration;
using Kit.Evaluation;
using Kit.Models;
using Kit.Models.Safetensors;
using Kit.Models.Tokenizers;
using Kit.Quantization;
using static TorchSharp.torch;

namespace Kit.Tests.Calibration;

public sealed class SequentialCompressorTests
{
    internal static IReadOnlyList<int[]> TinyStoriesWindows(int count, int length, int seed = 0)
    {
        var tokenizer = TokenizerLoader.FromFolder(TestPaths.Stories260K);
        var text = File.ReadAllText(TestPaths.TinyStoriesText)[..200_000];
        var ids = tokenizer.Encode(text).ToArray();
        var rng = new Random(seed);
        return Enumerable.Range(0, count).Select(_ => { int s = rng.Next(ids.Length - length); return ids[s..(s + length)]; }).ToArray();
    }

    static readonly CompressionRecipe Rtn4 = new()
    {
        Method = CompressionMethod.Rtn, Scheme = "W4A16",
        Weights = new QuantizationArgs { NumBits = 4, Symmetric = true, Strategy = QuantizationStrategy.Group, GroupSize = 32 },
    };

    [Fact]
    public void Rtn_through_the_pipeline_writes_each_weight_rounded_on_its_own_grid()
    {
        var output = Path.Combine(TestPaths.NewTempDir(), "rtn");
        var report = SequentialCompressor.Run(TestPaths.Stories260K, output, Rtn4, TinyStoriesWindows(8, 64),
            new SequentialOptions { Device = "cpu", Format = OutputFormat.Dense });

        Assert.Equal(5 * 7, report.Modules.Count);
        Assert.Equal("model.layers.0.self_attn.q_proj", report.Modules[0].Module);
        Assert.Equal("model.layers.0.mlp.down_proj", report.Modules[6].Module);
        Assert.All(report.Modules, m => Assert.InRange(m.RelativeError, 1e-6, 0.2));

        using var original = SafetensorsCheckpoint.Open(TestPaths.Stories260K);
        using var compressed = SafetensorsCheckpoint.Open(output);
        Assert.Equal(original.Names.OrderBy(n => n), compressed.Names.OrderBy(n => n));
        foreach (var name in original.Names)
        {
            using var before = original.Load(name);
            using var after = compressed.Load(name);
            bool target = name.Contains("_proj.weight");
            if (!target) { Assert.True(before.equal(after).all().item<bool>(), name); continue; }
            using var expected = Rtn.Quantize(before, Rtn4.Weights!);
            using var values = expected.Dequantize();
            Assert.True(values.equal(after).all().item<bool>(), name);
        }
        using var lm = LanguageModel.Load(output, new ModelLoadOptions { Device = "cpu" });
        Assert.True(File.Exists(Path.Combine(output, "kit_compression.json")));
        Assert.Empty(Directory.GetDirectories(Path.GetDirectoryName(output)!, "*.partial-*"));
    }

    [Fact]
    public void Existing_output_is_refused_and_left_untouched()
    {
        var output = TestPaths.NewTempDir();
        File.WriteAllText(Path.Combine(output, "keep.txt"), "mine");
        var e = Assert.Throws<IOException>(() => SequentialCompressor.Run(TestPaths.Stories260K, output, Rtn4, Array.Empty<int[]>()));
        Assert.Contains("already exists", e.Message);
        Assert.Equal("mine", File.ReadAllText(Path.Combine(output, "keep.txt")));
    }

    [Fact]
    public void Failure_midway_leaves_no_output_folder()
    {
        var output = Path.Combine(TestPaths.NewTempDir(), "out");
        var bad = new[] { new[] { 1, 2, 3 }, new[] { 1, 999_999, 3 } };
        Assert.Throws<ArgumentException>(() => SequentialCompressor.Run(TestPaths.Stories260K, output, Rtn4, bad));
        Assert.False(Directory.Exists(output));
        Assert.Empty(Directory.GetDirectories(Path.GetDirectoryName(output)!));
    }
}
