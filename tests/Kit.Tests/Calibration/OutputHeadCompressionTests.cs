using Kit.Calibration;
using Kit.Formats;
using Kit.Formats.Gguf;
using Kit.Inference;
using Kit.Models;
using Kit.Models.Safetensors;
using Kit.Quantization;
using static TorchSharp.torch;

namespace Kit.Tests.Calibration;

/// <summary>lm_head compressed when a recipe selects it (llm-compressor's <c>ignore: []</c>, <c>kit quantize --lm-head</c>).</summary>
public sealed class OutputHeadCompressionTests
{
    static readonly ModelLoadOptions Cpu = new() { Device = "cpu", DType = "float32" };

    static readonly CompressionRecipe GptqWithHead = new()
    {
        Method = CompressionMethod.Gptq, Scheme = "W4A16", ActOrder = ActOrder.None, Ignore = [],
        Weights = new QuantizationArgs { NumBits = 4, Symmetric = true, Strategy = QuantizationStrategy.Group, GroupSize = 32 },
    };

    // A two-layer Llama whose head is its own matrix (every bundled model ties it to the embeddings).
    static string UntiedModel()
    {
        var folder = Path.Combine(TestPaths.NewTempDir(), "untied");
        RandomModel.Write(new ModelConfig
        {
            ModelType = "llama", HiddenSize = 64, IntermediateSize = 128, NumHiddenLayers = 2, NumAttentionHeads = 4,
            NumKeyValueHeads = 2, HeadDim = 16, VocabSize = 1024, MaxPositionEmbeddings = 256, RmsNormEps = 1e-6,
            TieWordEmbeddings = false, BosTokenId = 1, EosTokenIds = [2],
        }, folder, seed: 11);
        // A final norm with uneven gains, so that the head's inputs (after it) differ from the last layer's outputs.
        using var scope = NewDisposeScope();
        string file;
        List<(string, Tensor)> tensors;
        using (var checkpoint = SafetensorsCheckpoint.Open(folder))
        {
            file = checkpoint.PathOf("model.norm.weight");
            tensors = checkpoint.Names.Where(n => checkpoint.PathOf(n) == file)
                .Select(n => (n, n == "model.norm.weight" ? linspace(0.1, 4.0, 64).index_select(0, randperm(64, generator: new Generator(3))) : checkpoint.Load(n).clone()))
                .ToList();
        }
        SafetensorsWriter.Write(file, tensors);
        return folder;
    }

    [Fact]
    public void Gptq_fits_lm_head_to_the_final_norms_outputs_of_the_compressed_layers()
    {
        var model = UntiedModel();
        var samples = SequentialCompressorTests.TinyStoriesWindows(8, 48);
        var dense = Path.Combine(TestPaths.NewTempDir(), "dense");
        var report = SequentialCompressor.Run(model, dense, GptqWithHead, samples, new SequentialOptions { Device = "cpu", Format = SaveFormat.Dense });
        Assert.Equal(2 * 7 + 1, report.Modules.Count);
        var head = report.Modules[^1];
        Assert.Equal(("lm_head", 1024L, 64L), (head.Module, head.Rows, head.Columns));
        Assert.InRange(head.RelativeError!.Value, 1e-6, 0.1);

        // What lm_head reads in the compressed model: a hook on it while the dense output runs the same samples.
        using var compressed = LanguageModel.Load(dense, Cpu);
        using var hessian = new HessianAccumulator(64, CPU);
        var hook = compressed.Model.LmHead.register_forward_pre_hook((_, input) => { hessian.Add(input); return input; });
        using (no_grad())
            foreach (var sample in samples)
                compressed.Model.Forward(tensor(sample.Select(i => (long)i).ToArray(), 1, sample.Length)).Dispose();
        hook.remove();

        using var scope = NewDisposeScope();
        using var original = SafetensorsCheckpoint.Open(model);
        var weight = original.Load("lm_head.weight");
        using var savedCheckpoint = SafetensorsCheckpoint.Open(dense);
        var saved = savedCheckpoint.Load("lm_head.weight");
        var gptq = Gptq.Quantize(weight, hessian.H, GptqWithHead.Weights!, new GptqOptions { ActOrder = ActOrder.None }).Weight;
        using var rtn = Rtn.Quantize(weight, GptqWithHead.Weights!);
        // GPTQ on the norm's inputs instead of its outputs: what a pipeline that forgot the final norm would do.
        using var unnormed = new HessianAccumulator(64, CPU);
        var normHook = compressed.Model.Model.Norm.register_forward_pre_hook((_, input) => { unnormed.Add(input); return input; });
        using (no_grad())
            foreach (var sample in samples)
                compressed.Model.Forward(tensor(sample.Select(i => (long)i).ToArray(), 1, sample.Length)).Dispose();
        normHook.remove();
        var wrong = Gptq.Quantize(weight, unnormed.H, GptqWithHead.Weights!, new GptqOptions { ActOrder = ActOrder.None }).Weight;

        // The output error tr(ΔW H ΔWᵀ) on the head's true inputs: the saved head is as good as GPTQ on them (their
        // codes differ where batched and one-by-one forward passes round differently), and clearly better than RTN
        // or GPTQ on the wrong inputs.
        double Loss(Tensor w) { var d = (weight - w).to_type(ScalarType.Float64); return (d.matmul(hessian.H.to_type(ScalarType.Float64)) * d).sum().item<double>(); }
        double savedLoss = Loss(saved), gptqLoss = Loss(gptq), rtnLoss = Loss(rtn.Dequantize()), wrongLoss = Loss(wrong);
        string figures = $"saved {savedLoss:G4}, GPTQ {gptqLoss:G4}, RTN {rtnLoss:G4}, GPTQ before the norm {wrongLoss:G4}";
        Assert.True(Math.Abs(savedLoss / gptqLoss - 1) < 0.02, figures);
        Assert.True(savedLoss < 0.9 * rtnLoss, figures);
        Assert.True(savedLoss < 0.9 * wrongLoss, figures);
    }

    [Fact]
    public void A_quantized_head_is_saved_packed_served_packed_and_written_to_gguf_from_its_codes()
    {
        var model = UntiedModel();
        var rtn = GptqWithHead with { Method = CompressionMethod.Rtn, ActOrder = ActOrder.None };
        var packed = Path.Combine(TestPaths.NewTempDir(), "packed");
        var dense = Path.Combine(TestPaths.NewTempDir(), "dense");
        SequentialCompressor.Run(model, packed, rtn, [], new SequentialOptions { Device = "cpu" });
        SequentialCompressor.Run(model, dense, rtn, [], new SequentialOptions { Device = "cpu", Format = SaveFormat.Dense });

        using (var checkpoint = SafetensorsCheckpoint.Open(packed))
        {
            Assert.True(checkpoint.Contains("lm_head.weight_packed"));
            Assert.False(checkpoint.Contains("lm_head.weight"));
        }
        using var served = LanguageModel.Load(packed, Cpu with { ExactActivations = true });
        Assert.IsType<QuantizedLinear>(served.Model.LmHead);
        using var reference = LanguageModel.Load(dense, Cpu);
        Assert.IsType<Linear>(reference.Model.LmHead);
        Assert.True(served.Model.WeightBytes < reference.Model.WeightBytes - 1024 * 64 * 3);
        using (var ids = tensor(new long[] { 1, 300, 42, 7, 900 }, 1, 5))
        using (var a = served.Model.Forward(ids))
        using (var b = reference.Model.Forward(ids))
            Assert.True(a.allclose(b, rtol: 1e-4, atol: 1e-4), $"max difference {(a - b).abs().max().item<float>()}");

        var gguf = Path.Combine(TestPaths.NewTempDir(), "head.gguf");
        ModelExport.CompressAndSave(model, gguf, SaveFormat.Gguf, rtn, null, new SequentialOptions { Device = "cpu" });
        var output = GgufFile.Open(gguf).Tensors.Single(t => t.Name == "output.weight");
        Assert.Equal(GgmlType.Q4_0, output.Type);
    }

    [Fact]
    public void A_head_tied_to_the_embeddings_is_refused_before_any_work()
    {
        var output = Path.Combine(TestPaths.NewTempDir(), "out");
        var e = Assert.Throws<ArgumentException>(() => SequentialCompressor.Run(TestPaths.Stories260K, output,
            GptqWithHead with { Method = CompressionMethod.Rtn, ActOrder = ActOrder.None }, []));
        Assert.Contains("tie_word_embeddings", e.Message);
        Assert.Contains("ignore", e.Message);
        Assert.Empty(Directory.GetFileSystemEntries(Path.GetDirectoryName(output)!));
    }
}
