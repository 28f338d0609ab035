using Kit.Calibration;
using Kit.Models;
using Kit.Quantization;

namespace Kit.Evaluation;

/// <summary>One compressed variant of a model, as compared by <see cref="VariantComparison"/>.</summary>
/// <param name="Name">A label for tables and charts.</param>
/// <param name="Recipe">How it was compressed, or null for the uncompressed model.</param>
/// <param name="Perplexity">Perplexity on the evaluation text.</param>
/// <param name="MeanRelativeError">Mean ‖ΔW X‖² / ‖W X‖² over the compressed Linears (NaN when not measured).</param>
/// <param name="Sparsity">Mean fraction of zero weights in the compressed Linears.</param>
/// <param name="CompressSeconds">Time to compress.</param>
/// <param name="Folder">Where the variant was written.</param>
public sealed record VariantResult(string Name, CompressionRecipe? Recipe, double Perplexity, double MeanRelativeError,
    double Sparsity, double CompressSeconds, string Folder);

/// <summary>Compresses a model several ways and measures each variant's perplexity on the same text.</summary>
public static class VariantComparison
{
    /// <summary>
    /// Runs every recipe on <paramref name="model"/> (calibrating on <paramref name="calibration"/>), writes
    /// the variants under <paramref name="runsFolder"/>, and returns one row per variant, the uncompressed
    /// model first, written in <paramref name="format"/>: dense by default; compressed-tensors keeps quantized
    /// Linears packed when loaded, which speed measurements need (pruned-only variants stay dense either way, and
    /// 2:4 ones load sparse).
    /// </summary>
    public static IReadOnlyList<VariantResult> Run(string model, IReadOnlyList<(string Name, CompressionRecipe Recipe)> variants,
        CalibrationRequest? calibration, string evaluationText, string runsFolder, int seqLen = 256,
        IProgress<string>? progress = null, SaveFormat format = SaveFormat.Dense)
    {
        var text = File.ReadAllText(evaluationText);
        var results = new List<VariantResult>();
        string baseFolder = LanguageModel.ResolveFolder(model, new ModelLoadOptions());
        results.Add(new VariantResult("dense", null, PerplexityOf(baseFolder, text, seqLen), 0, 0, 0, baseFolder));
        foreach (var (name, recipe) in variants)
        {
            progress?.Report(name);
            string folder = Path.Combine(runsFolder, Slug(name));
            var report = ModelCompression.Compress(model, folder, recipe, recipe.NeedsCalibration || calibration is not null ? calibration : null,
                new SequentialOptions { Overwrite = true, Format = format });
            var measured = report.Modules.Where(m => m.RelativeError is not null).ToList();
            results.Add(new VariantResult(name, recipe, PerplexityOf(folder, text, seqLen),
                measured.Count == 0 ? double.NaN : measured.Average(m => m.RelativeError!.Value),
                report.Modules.Average(m => m.Sparsity), report.Seconds, report.OutputFolder));
        }
        return results;
    }

    static double PerplexityOf(string folder, string text, int seqLen)
    {
        using var lm = LanguageModel.Load(folder);
        return lm.Perplexity(text, Math.Min(seqLen, lm.Config.MaxPositionEmbeddings)).Value;
    }

    static string Slug(string name) => new(name.Select(c => char.IsLetterOrDigit(c) ? c : '-').ToArray());
}
