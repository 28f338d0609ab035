using System.Text.Json;

namespace Kit.Calibration;

/// <summary>The <see cref="CompressionReport"/> that the pipeline writes beside a compressed model's weights.</summary>
public static class CompressionReportFile
{
    /// <summary>The report's file name inside a model folder.</summary>
    public const string FileName = "kit_compression.json";

    /// <summary>
    /// The report of the model in <paramref name="folder"/> as JSON (its <c>Recipe</c>, <c>Modules</c>, …), or null
    /// when the folder has none; <paramref name="path"/> names the file for the reader's own errors.
    /// </summary>
    /// <exception cref="InvalidDataException">The file is not JSON.</exception>
    public static JsonElement? Read(string folder, out string path)
    {
        path = Path.Combine(folder, FileName);
        if (!File.Exists(path)) return null;
        try
        {
            using var document = JsonDocument.Parse(File.ReadAllText(path), new JsonDocumentOptions { AllowTrailingCommas = true });
            return document.RootElement.Clone();
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: not a readable Kit compression report ({e.Message})", e);
        }
    }
}
