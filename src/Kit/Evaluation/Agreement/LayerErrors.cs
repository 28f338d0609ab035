using System.Text.Json;
using Kit.Calibration;

namespace Kit.Evaluation.Agreement;

/// <summary>One compressed Linear's reconstruction error, as the compression run measured it.</summary>
/// <param name="Layer">Decoder layer index.</param>
/// <param name="Module">Full module name (model.layers.3.mlp.down_proj).</param>
/// <param name="RelativeError">‖WX − ŴX‖² / ‖WX‖² on the calibration inputs (NaN when not measured, e.g. RTN).</param>
/// <param name="ErrorPerToken">‖WX − ŴX‖² per calibration token.</param>
/// <param name="Sparsity">Fraction of weights that are zero.</param>
public sealed record LayerError(int Layer, string Module, double RelativeError, double ErrorPerToken, double Sparsity);

/// <summary>Reads the per-layer errors from the <c>kit_compression.json</c> report that Kit writes next to a compressed model.</summary>
public static class LayerErrors
{
    /// <summary>The errors of the model in <paramref name="folder"/>, or an empty list when it has no Kit report.</summary>
    /// <exception cref="InvalidDataException">The report exists but is not a Kit compression report.</exception>
    public static IReadOnlyList<LayerError> Read(string folder)
    {
        if (CompressionReportFile.Read(folder, out string path) is not { } root) return [];
        try
        {
            if (!root.TryGetProperty("Modules", out var modules) || modules.ValueKind != JsonValueKind.Array)
                throw new InvalidDataException($"{path}: no 'Modules' array; not a Kit compression report");
            return modules.EnumerateArray().Select(m => new LayerError(
                m.GetProperty("Layer").GetInt32(), m.GetProperty("Module").GetString() ?? "",
                Number(m.GetProperty("RelativeError")), Number(m.GetProperty("ErrorPerToken")), Number(m.GetProperty("Sparsity")))).ToList();
        }
        catch (Exception e) when (e is KeyNotFoundException or InvalidOperationException or FormatException)
        {
            throw new InvalidDataException($"{path}: not a readable Kit compression report ({e.Message})", e);
        }
    }

    // A report writes an error it did not measure as null (older ones as "NaN"), and infinities as strings,
    // which GetDouble refuses.
    static double Number(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.Null => double.NaN,
        JsonValueKind.String => double.Parse(e.GetString()!, System.Globalization.CultureInfo.InvariantCulture),
        _ => e.GetDouble(),
    };
}
