using Kit.Calibration;
using Kit.Evaluation;
using Kit.Evaluation.Agreement;
using Kit.Formats.CompressedTensors;
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
    public void The_pipeline_refuses_to_write_gguf_itself_and_leaves_no_folder()
    {
        var output = Path.Combine(TestPaths.NewTempDir(), "gguf");
        var e = Assert.Throws<ArgumentException>(() => SequentialCompressor.Run(TestPaths.Stories260K, output, Rtn4, [],
            new SequentialOptions { Device = "cpu", Format = SaveFormat.Gguf }));
        Assert.Contains("ModelExport", e.Message);
        Assert.False(Directory.Exists(output));
    }

    [Fact]
    public void Rtn_through_the_pipeline_writes_each_weight_rounded_on_its_own_grid()
    {
        var output = Path.Combine(TestPaths.NewTempDir(), "rtn");
        var report = SequentialCompressor.Run(TestPaths.Stories260K, output, Rtn4, TinyStoriesWindows(8, 64),
            new SequentialOptions { Device = "cpu", Format = SaveFormat.Dense });

        Assert.Equal(5 * 7, report.Modules.Count);
        Assert.Equal("model.layers.0.self_attn.q_proj", report.Modules[0].Module);
        Assert.Equal("model.layers.0.mlp.down_proj", report.Modules[6].Module);
        Assert.All(report.Modules, m => Assert.InRange(m.RelativeError!.Value, 1e-6, 0.2));
        // Each layer's wall time once, in order, covering its modules' solves and together within the whole run's.
        Assert.Equal(Enumerable.Range(0, 5), report.LayerTimes.Select(l => l.Layer));
        Assert.All(report.LayerTimes, l => Assert.True(l.Seconds >= report.Modules.Where(m => m.Layer == l.Layer).Sum(m => m.Seconds), $"layer {l.Layer}"));
        Assert.InRange(report.LayerTimes.Sum(l => l.Seconds), 0, report.Seconds);
        Assert.Null(report.PeakGpuBytes);

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
        Assert.Empty(Directory.GetDirectories(Path.GetDirectoryName(output)!, "*.partial*"));
    }

    [Fact]
    public void Rtn_without_calibration_data_reports_errors_as_not_measured_not_nan()
    {
        var output = Path.Combine(TestPaths.NewTempDir(), "rtn");
        var report = SequentialCompressor.Run(TestPaths.Stories260K, output, Rtn4, Array.Empty<int[]>(),
            new SequentialOptions { Device = "cpu", Format = SaveFormat.Dense });
        Assert.All(report.Modules, m => { Assert.Null(m.RelativeError); Assert.Null(m.ErrorPerToken); });
        var json = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Path.Combine(output, "kit_compression.json")))!;
        var first = json["Modules"]![0]!.AsObject();
        Assert.True(first.ContainsKey("RelativeError"));
        Assert.Null(first["RelativeError"]);
        Assert.Null(first["ErrorPerToken"]);
        Assert.DoesNotContain("NaN", File.ReadAllText(Path.Combine(output, "kit_compression.json")));
        // The evaluation side reads an unmeasured error back as NaN, which it leaves out of its summaries.
        Assert.All(LayerErrors.Read(output), e => Assert.True(double.IsNaN(e.RelativeError)));
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

    // stories260K as a bfloat16 checkpoint (torch_dtype bfloat16, every tensor rounded to bf16) in a temporary folder.
    internal static string Bf16Stories260K()
    {
        var folder = Path.Combine(TestPaths.NewTempDir(), "stories260K-bf16");
        Directory.CreateDirectory(folder);
        foreach (var file in Directory.GetFiles(TestPaths.Stories260K).Where(f => !f.EndsWith(".safetensors", StringComparison.Ordinal)))
            File.Copy(file, Path.Combine(folder, Path.GetFileName(file)));
        var configPath = Path.Combine(folder, "config.json");
        var config = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(configPath))!.AsObject();
        config["torch_dtype"] = "bfloat16";
        File.WriteAllText(configPath, config.ToJsonString());
        using var scope = NewDisposeScope();
        using var checkpoint = SafetensorsCheckpoint.Open(TestPaths.Stories260K);
        SafetensorsWriter.Write(Path.Combine(folder, "model.safetensors"), checkpoint.Names.Select(n => (n, checkpoint.Load(n, ScalarType.BFloat16))).ToList());
        return folder;
    }

    [Fact]
    public void Gptq_on_a_bf16_model_compensates_for_the_scales_its_checkpoint_stores()
    {
        // Dense output saves GPTQ's own weights; compressed-tensors saves codes and bf16 scales. They agree only
        // when GPTQ's grid had bf16 scales already (with float32 ones the writer's rounding moves every value).
        var model = Bf16Stories260K();
        var recipe = new CompressionRecipe
        {
            Method = CompressionMethod.Gptq, ActOrder = ActOrder.None,
            Weights = QuantizationPresets.W8A16 with { Strategy = QuantizationStrategy.Channel, GroupSize = null },
        };
        var samples = TinyStoriesWindows(8, 64);
        var dense = Path.Combine(TestPaths.NewTempDir(), "dense");
        var packed = Path.Combine(TestPaths.NewTempDir(), "packed");
        SequentialCompressor.Run(model, dense, recipe, samples, new SequentialOptions { Device = "cpu", Format = SaveFormat.Dense });
        SequentialCompressor.Run(model, packed, recipe, samples, new SequentialOptions { Device = "cpu" });

        using var denseWeights = SafetensorsCheckpoint.Open(dense);
        using var reader = CompressedTensorsReader.Open(packed);
        var modules = denseWeights.Names.Where(n => n.Contains("_proj.weight")).ToList();
        Assert.Equal(35, modules.Count);
        foreach (var name in modules)
        {
            using var scope = NewDisposeScope();
            var served = reader.Dequantized(name[..^".weight".Length], ScalarType.BFloat16);
            Assert.True(served.equal(denseWeights.Load(name, ScalarType.BFloat16)).all().item<bool>(), name);
        }
    }

    [Fact]
    public void Hessian_condition_numbers_are_reported_only_when_asked_for()
    {
        var recipe = Rtn4 with { Method = CompressionMethod.Gptq, ActOrder = ActOrder.None };
        var samples = TinyStoriesWindows(8, 64);
        var plain = SequentialCompressor.Run(TestPaths.Stories260K, Path.Combine(TestPaths.NewTempDir(), "plain"), recipe, samples,
            new SequentialOptions { Device = "cpu", Format = SaveFormat.Dense });
        Assert.All(plain.Modules, m => Assert.Null(m.HessianCondition));
        Assert.Contains("\"HessianCondition\": null", File.ReadAllText(Path.Combine(plain.OutputFolder, "kit_compression.json")));

        var asked = SequentialCompressor.Run(TestPaths.Stories260K, Path.Combine(TestPaths.NewTempDir(), "asked"), recipe, samples,
            new SequentialOptions { Device = "cpu", Format = SaveFormat.Dense, HessianConditionNumbers = true });
        Assert.All(asked.Modules, m => Assert.InRange(m.HessianCondition!.Value, 1, 1e12));
        // q, k and v read one input, so they share one Hessian and one condition number.
        Assert.Equal(asked.Modules[0].HessianCondition, asked.Modules[2].HessianCondition);
        Assert.Equal(plain.Modules.Select(m => m.RelativeError), asked.Modules.Select(m => m.RelativeError));
    }
}
