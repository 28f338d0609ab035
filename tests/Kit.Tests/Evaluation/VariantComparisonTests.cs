using Kit.Calibration;
using Kit.Evaluation;
using Kit.Formats.CompressedTensors;
using Kit.Inference;
using Kit.Inference.Sparse;
using Kit.Models;
using Kit.Quantization;

namespace Kit.Tests.Evaluation;

public sealed class VariantComparisonTests
{
    [Fact]
    public void Compressed_tensors_variants_load_packed_and_pruned_ones_sparse()
    {
        var variants = new List<(string, CompressionRecipe)>
        {
            ("W8A8", new CompressionRecipe { Method = CompressionMethod.Rtn, Scheme = "W8A8", Weights = QuantizationPresets.W8A8 }),
            ("2:4", new CompressionRecipe { Method = CompressionMethod.Magnitude, Sparsity = SparsityPattern.Parse("2:4") }),
        };
        var results = VariantComparison.Run(Stories260K.Name, variants, null, WriteText(),
            TestPaths.NewTempDir(), seqLen: 128, format: SaveFormat.CompressedTensors);

        Assert.Equal(["dense", "W8A8", "2:4"], results.Select(r => r.Name));
        Assert.True(CompressedTensorsReader.IsCompressedTensors(results[1].Folder));
        using (var w8a8 = LanguageModel.Load(results[1].Folder))
            Assert.All(w8a8.Model.DecoderLinears(), l => Assert.IsType<QuantizedLinear>(l.Module));
        using (var sparse = LanguageModel.Load(results[2].Folder))
            Assert.All(sparse.Model.DecoderLinears(), l => Assert.IsType<Sparse24Linear>(l.Module));
        // Half the weights pruned; int8 per channel barely moves a trained model (perplexity within 5 %).
        Assert.InRange(results[2].Sparsity, 0.499, 0.501);
        Assert.InRange(results[1].Perplexity / results[0].Perplexity, 0.95, 1.05);
    }

    static string WriteText()
    {
        string path = Path.Combine(TestPaths.NewTempDir(), "held-out.txt");
        File.WriteAllText(path, File.ReadAllText(TestPaths.TinyStoriesText)[..8000]);
        return path;
    }
}
