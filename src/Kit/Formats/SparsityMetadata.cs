using System.Text.Json;
using Kit.Calibration;
using Kit.Quantization;

namespace Kit.Formats;

/// <summary>
/// What a model folder's <c>kit_compression.json</c> (the pipeline's <see cref="Kit.Calibration.CompressionReport"/>)
/// says about pruning: the recipe's sparsity pattern and the Linears it was applied to.
/// </summary>
/// <param name="Pattern">The recipe's <c>Recipe.Sparsity</c>.</param>
/// <param name="Modules">The compressed Linears' names (<c>Modules[].Module</c>), e.g. model.layers.0.mlp.up_proj.</param>
internal sealed record SparsityMetadata(SparsityPattern Pattern, IReadOnlySet<string> Modules)
{
    /// <summary>The file it is read from, for loaders' errors (models do not reach into the pipeline's folder).</summary>
    public const string FileName = CompressionReportFile.FileName;

    /// <summary>
    /// Reads <paramref name="folder"/>'s metadata; null when the folder has none or its recipe did not prune.
    /// Throws <see cref="InvalidDataException"/> naming the file and field when the file is malformed.
    /// </summary>
    public static SparsityMetadata? Read(string folder)
    {
        if (CompressionReportFile.Read(folder, out string path) is not { } root) return null;
        try
        {
            if (!root.GetProperty("Recipe").TryGetProperty("Sparsity", out var sparsity) || sparsity.ValueKind == JsonValueKind.Null)
                return null;
            int n = sparsity.GetProperty("N").GetInt32(), m = sparsity.GetProperty("M").GetInt32();
            var pattern = m > 0 ? SparsityPattern.NOfM(n, m) : SparsityPattern.Unstructured(sparsity.GetProperty("Sparsity").GetDouble());
            var modules = root.GetProperty("Modules").EnumerateArray()
                .Select(e => e.GetProperty("Module").GetString() ?? throw new InvalidDataException($"{path}: Modules[].Module is null"))
                .ToHashSet(StringComparer.Ordinal);
            return new SparsityMetadata(pattern, modules);
        }
        catch (Exception e) when (e is KeyNotFoundException or InvalidOperationException or FormatException or ArgumentException)
        {
            throw new InvalidDataException($"{path}: Recipe.Sparsity or Modules is malformed ({e.Message})", e);
        }
    }

    /// <summary>
    /// Whether every group of 4 input columns of the pruned Linears has at most 2 non-zeros by construction:
    /// an N:4 pattern zeroing N ≥ 2 of every 4.
    /// </summary>
    public bool IsTwoOfFour => Pattern.IsNOfM && Pattern.M == 4 && Pattern.N >= 2;
}
