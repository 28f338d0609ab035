using System.Text.Json.Nodes;
using Kit.Runtime;

namespace Kit.Planning;

/// <summary>A GPU's published datasheet figures (dense tensor-core throughput), for comparisons that are computed, not measured.</summary>
/// <param name="Name">The product.</param>
/// <param name="MemoryBytes">Its memory.</param>
/// <param name="BandwidthBytesPerSecond">Its memory bandwidth.</param>
/// <param name="Bf16FlopsPerSecond">Dense bf16 tensor-core operations per second.</param>
/// <param name="Fp8FlopsPerSecond">Dense FP8 operations per second, or null where the GPU has no FP8 tensor cores.</param>
/// <param name="Int8OpsPerSecond">Dense int8 operations per second.</param>
/// <param name="Source">Where the figures come from.</param>
public sealed record PublishedGpu(string Name, double MemoryBytes, double BandwidthBytesPerSecond, double Bf16FlopsPerSecond,
    double? Fp8FlopsPerSecond, double Int8OpsPerSecond, string Source)
{
    /// <summary>The GPUs in Kit's data file (<c>data/gpus/gpus.json</c>, copied beside the library).</summary>
    public static IReadOnlyList<PublishedGpu> Load() => Load(KitFiles.Find(Path.Combine("gpus", "gpus.json")));

    /// <summary>The GPUs in <paramref name="path"/>, a file in the layout of <c>data/gpus/gpus.json</c>.</summary>
    /// <exception cref="InvalidDataException">A field is missing or not a number.</exception>
    public static IReadOnlyList<PublishedGpu> Load(string path)
    {
        var gpus = (JsonNode.Parse(File.ReadAllText(path))?["gpus"] as JsonArray)
            ?? throw new InvalidDataException($"{path}: expected an object with a 'gpus' array");
        return gpus.Select((node, i) =>
        {
            double Number(string field) => node?[field]?.GetValue<double>() is double d && d > 0
                ? d : throw new InvalidDataException($"{path}: gpus[{i}].{field} must be a positive number");
            return new PublishedGpu(node?["name"]?.GetValue<string>() ?? throw new InvalidDataException($"{path}: gpus[{i}].name is missing"),
                Number("memory_bytes"), Number("bandwidth_bytes_per_s"), Number("bf16_flops"),
                node?["fp8_flops"] is null ? null : Number("fp8_flops"), Number("int8_ops"), node?["source"]?.GetValue<string>() ?? "");
        }).ToList();
    }

    /// <summary>
    /// The batch-1 decode ceiling of a model whose decode step reads <paramref name="bytesPerToken"/> bytes (its
    /// weights, for short contexts): bandwidth ÷ bytes, tokens per second. A bound, computed, not measured.
    /// </summary>
    public double DecodeCeilingTokensPerSecond(double bytesPerToken) => bytesPerToken > 0
        ? BandwidthBytesPerSecond / bytesPerToken
        : throw new ArgumentOutOfRangeException(nameof(bytesPerToken), bytesPerToken, "bytes per token must be positive");
}
