using Kit.Calibration;
using Kit.Inference.Sparse;
using Kit.Models;
using Kit.Models.Safetensors;
using Kit.Quantization;
using static TorchSharp.torch;

namespace Kit.Tests.Inference.Sparse;

public sealed class Sparse24LoadingTests
{
    static readonly ModelLoadOptions Cpu = new() { Device = "cpu" };

    static readonly Lazy<string> Pruned = new(() =>
    {
        var folder = Path.Combine(TestPaths.NewTempDir(), "model");
        ModelCompression.Compress(TestPaths.Stories260K, folder,
            new CompressionRecipe { Method = CompressionMethod.Magnitude, Sparsity = SparsityPattern.NOfM(2, 4) }, null,
            new SequentialOptions { Device = "cpu", Format = SaveFormat.Dense });
        return folder;
    });

    static CausalLM LoadDense(string folder)
    {
        using var checkpoint = SafetensorsCheckpoint.Open(folder);
        return CausalLM.FromCheckpoint(ModelConfig.Load(Path.Combine(folder, "config.json")), checkpoint);
    }

    [Fact]
    public void A_magnitude_pruned_model_loads_with_sparse_linears_and_the_memory_they_hold()
    {
        using var sparse = LanguageModel.Load(Pruned.Value, Cpu);
        using var dense = LoadDense(Pruned.Value);
        var linears = sparse.Model.DecoderLinears().ToList();
        Assert.Equal(5 * 7, linears.Count);
        Assert.All(linears, l => Assert.IsType<Sparse24Linear>(l.Module));

        // Per layer of stories260K (hidden 64, 8 heads and 4 KV heads of 8, MLP 172), [out, in]:
        // q, o [64, 64]; k, v [32, 64]; gate, up [172, 64]; down [64, 172]. Dense float32 holds 4 bytes per
        // weight; 2:4 holds in/2 float32 values and ceil(in / 8) metadata bytes per row.
        var shapes = new (long Out, long In)[] { (64, 64), (32, 64), (32, 64), (64, 64), (172, 64), (172, 64), (64, 172) };
        long denseBytes = 5 * shapes.Sum(s => s.Out * s.In * 4);
        long sparseBytes = 5 * shapes.Sum(s => s.Out * (s.In / 2 * 4 + (s.In + 7) / 8));
        Assert.Equal((906_240L, 481_600L), (denseBytes, sparseBytes));
        Assert.Equal(dense.WeightBytes - denseBytes + sparseBytes, sparse.Model.WeightBytes);

        using var checkpoint = SafetensorsCheckpoint.Open(Pruned.Value);
        foreach (var (name, module) in linears)
        {
            using var scope = NewDisposeScope();
            var w = checkpoint.Load(name + ".weight", ScalarType.Float32);
            var mask = ((Sparse24Linear)module).Mask;
            Assert.True(w.masked_select(mask).eq(0).all().item<bool>(), name);
            Assert.Equal(w.numel() / 2, mask.sum().item<long>());
        }
    }

    [Theory]
    [InlineData(8)]     // rows ≤ KernelRows: the compressed kernel
    [InlineData(40)]    // prefill: the expanded weight
    public void Logits_equal_the_same_folder_loaded_dense(int tokens)
    {
        using var sparse = LanguageModel.Load(Pruned.Value, Cpu);
        using var dense = LoadDense(Pruned.Value);
        using var scope = NewDisposeScope();
        var ids = randint(3, 512, new long[] { 1, tokens }, generator: new Generator(9));
        var expected = dense.Forward(ids);
        var actual = sparse.Model.Forward(ids);
        double worst = (actual - expected).abs().max().item<float>();
        Assert.True(worst <= 1e-5 * Math.Max(1, expected.abs().max().item<float>()), $"largest logit difference {worst}");
    }

    [Fact]
    public void Linears_that_do_not_fit_two_of_four_stay_dense()
    {
        // The unpruned model with metadata claiming 2:4: no weight fits, so every Linear stays dense.
        string folder = TestPaths.NewTempDir();
        foreach (var file in Directory.GetFiles(TestPaths.Stories260K))
            File.Copy(file, Path.Combine(folder, Path.GetFileName(file)));
        File.WriteAllText(Path.Combine(folder, "kit_compression.json"),
            """{ "Recipe": { "Sparsity": { "Sparsity": 0.5, "N": 2, "M": 4, "IsNOfM": true } }, "Modules": [ { "Module": "model.layers.0.mlp.up_proj" } ] }""");
        using var lm = LanguageModel.Load(folder, Cpu);
        Assert.All(lm.Model.DecoderLinears(), l => Assert.IsNotType<Sparse24Linear>(l.Module));
        using var dense = LoadDense(TestPaths.Stories260K);
        Assert.Equal(dense.WeightBytes, lm.Model.WeightBytes);
    }
}
