using Kit.Calibration;
using Kit.Formats.Gguf;
using Kit.Quantization;

namespace Kit.Formats;

/// <summary>Compresses a model and saves it in the chosen format.</summary>
public static class ModelExport
{
    /// <summary>
    /// Runs <see cref="ModelCompression.Compress"/> and writes <paramref name="output"/>: a model folder, or for
    /// GGUF a <c>.gguf</c> file (quantized Linears whose grids match Q4_0/Q4_1/Q8_0 blocks are written from their codes).
    /// </summary>
    public static CompressionReport CompressAndSave(string model, string output, SaveFormat format, CompressionRecipe recipe,
        CalibrationRequest? calibration, SequentialOptions options, IProgress<CompressionProgress>? progress = null, Action<string>? log = null)
    {
        if (format != SaveFormat.Gguf)
            return ModelCompression.Compress(model, output, recipe, calibration,
                options with { Format = format }, progress, log);

        if (File.Exists(output) && !options.Overwrite)
            throw new IOException($"{output} already exists; choose another --out or allow overwriting");
        if (options.Resume)
            throw new ArgumentException("a GGUF export cannot resume: it keeps every layer's codes in memory until the file is written; write compressed-tensors (the default) or dense to use --resume");
        string folder = output + ".partial-" + Guid.NewGuid().ToString("N")[..8];
        try
        {
            var weights = new Dictionary<string, QuantizedWeight>();
            try
            {
                var report = ModelCompression.Compress(model, folder, recipe, calibration,
                    options with { Format = SaveFormat.Dense, Overwrite = false, QuantizedWeightSink = (name, w) => weights[name] = w }, progress, log);
                var type = recipe.Weights is { NumBits: <= 4 } ? GgmlType.Q4_0 : recipe.Weights is null ? GgmlType.F16 : GgmlType.Q8_0;
                // general.name from what the user gave, not from the staging folder's name.
                var export = GgufExporter.Export(folder, output, new GgufExportOptions { TensorType = type, QuantizedWeights = weights, Name = GgufExporter.NameOf(model) });
                foreach (var note in export.Notes) log?.Invoke(note);
                log?.Invoke($"{export.Tensors.Count(t => t.Origin == GgufTensorOrigin.Lossless)} tensors written losslessly from their codes, " +
                    $"{export.Tensors.Count(t => t.Origin == GgufTensorOrigin.Requantized)} requantized");
                return report with { OutputFolder = Path.GetFullPath(output) };
            }
            finally
            {
                foreach (var w in weights.Values) w.Dispose();
            }
        }
        finally
        {
            if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
        }
    }
}
