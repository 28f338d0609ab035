using Kit.Data;
using Kit.Models;
using Kit.Models.Tokenizers;
using Kit.Quantization;

namespace Kit.Calibration;

/// <summary>Where calibration data comes from and how much of it to use.</summary>
/// <param name="Source">A text, JSON Lines or Parquet file, a folder of them, or a hub dataset id.</param>
/// <param name="Options">Samples, sequence length and seed (llm-compressor's defaults, fitted to the model).</param>
public sealed record CalibrationRequest(string Source, CalibrationOptions Options);

/// <summary>
/// One call from a model to its compressed copy: resolves the model (folder, hub id or "default"),
/// draws calibration samples with its tokenizer, and runs the layer-by-layer pipeline.
/// </summary>
public static class ModelCompression
{
    /// <summary>
    /// Compresses <paramref name="model"/> into <paramref name="outputFolder"/>. <paramref name="log"/>
    /// receives what was decided on the way (for example calibration settings scaled down to fit the model).
    /// </summary>
    public static CompressionReport Compress(string model, string outputFolder, CompressionRecipe recipe,
        CalibrationRequest? calibration, SequentialOptions? options = null, IProgress<CompressionProgress>? progress = null,
        Action<string>? log = null, ModelLoadOptions? loadOptions = null)
    {
        recipe.Validated();
        string folder = LanguageModel.ResolveFolder(model, loadOptions ?? new ModelLoadOptions());
        IReadOnlyList<int[]> samples = Array.Empty<int[]>();
        if (calibration is not null)
        {
            var config = ModelConfig.Load(Path.Combine(folder, "config.json"));
            var tokenizer = TokenizerLoader.FromFolder(folder);
            var source = CalibrationSource.Open(calibration.Source);
            var corpus = TokenizedCorpus.Build(source, tokenizer, calibration.Options.CorpusTokenBudget, calibration.Options.ChatTemplate);
            var fit = calibration.Options.FitTo(config.MaxPositionEmbeddings, corpus);
            foreach (var change in fit.Changes) log?.Invoke(change);
            var set = CalibrationSampler.Sample(corpus, fit.Options);
            log?.Invoke($"calibration: {set.Count} samples × {set.SequenceLength} tokens from {set.Source}");
            samples = set.Samples;
        }
        else if (recipe.NeedsCalibration)
            throw new ArgumentException($"{recipe.Method} needs calibration data (--calibration FILE or DATASET)");
        return SequentialCompressor.Run(folder, outputFolder, recipe, samples, options, progress);
    }
}
