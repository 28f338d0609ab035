using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Kit.Models.Safetensors;
using Kit.Quantization;
using static TorchSharp.torch;

namespace Kit.Calibration;

/// <summary>
/// What a layer-by-layer run has finished, kept in its staging folder (<c>OUT.partial</c>) so that a killed run can
/// continue where it stopped (<c>kit quantize --resume</c>): a fingerprint of everything that decides the result,
/// the number of finished layers, their module reports and shards, and the calibration activations after the last of
/// them. After each layer the shard is written first, then the activations, then this record, each under a temporary
/// name and renamed into place, so the record never names a file that is not complete. The output folder itself
/// only appears, complete, when the run ends (<see cref="SequentialCompressor"/>).
/// </summary>
/// <param name="Fingerprint">Hash of the model, recipe, calibration tokens and options (<see cref="FingerprintOf"/>).</param>
/// <param name="FinishedLayers">Decoder layers finished and written.</param>
/// <param name="Seconds">Compute time spent on them, over every attempt.</param>
/// <param name="Modules">Their module reports.</param>
/// <param name="WeightMap">Tensor name → shard for the shards written.</param>
/// <param name="Activations">File in the staging folder with the activations after the last finished layer; null for a run without calibration data.</param>
internal sealed record StagedRun(string Fingerprint, int FinishedLayers, double Seconds, List<ModuleReport> Modules,
    SortedDictionary<string, string> WeightMap, string? Activations)
{
    /// <summary>What smoothing (AWQ, SmoothQuant) did in the finished layers.</summary>
    public List<Transforms.SmoothingReport> Smoothing { get; init; } = [];

    /// <summary>The record's file name in the staging folder.</summary>
    public const string FileName = "kit_progress.json";
    const string ActivationsName = "hidden";
    const string ReferenceName = "original";

    /// <summary>The staging folder of a run writing <paramref name="outputFolder"/>.</summary>
    public static string StagingFolder(string outputFolder) => outputFolder.TrimEnd('/', '\\') + ".partial";

    /// <summary>The record in <paramref name="staging"/>, or null when no layer has finished there.</summary>
    /// <exception cref="InvalidDataException">The record is unreadable or names a missing file.</exception>
    public static StagedRun? Read(string staging)
    {
        string path = Path.Combine(staging, FileName);
        if (!File.Exists(path)) return null;
        StagedRun run;
        try { run = JsonSerializer.Deserialize<StagedRun>(File.ReadAllText(path), Json) ?? throw new JsonException("empty"); }
        catch (JsonException e) { throw new InvalidDataException($"{path}: not a readable record of finished layers ({e.Message}); delete {staging} to start again", e); }
        foreach (var file in run.WeightMap.Values.Distinct().Concat(run.Activations is null ? [] : [run.Activations]))
            if (!File.Exists(Path.Combine(staging, file)))
                throw new InvalidDataException($"{path} names {file}, which is missing from {staging}; delete the folder to start again");
        return run;
    }

    /// <summary>
    /// Writes the activations after layer <see cref="FinishedLayers"/> (when the run has them; GPTAQ's original-model
    /// activations <paramref name="reference"/> beside them) and then this record, each atomically; removes older activations.
    /// </summary>
    public void Write(string staging, Tensor? hidden, Tensor? reference = null)
    {
        if (Activations is not null && hidden is not null)
        {
            string activations = Path.Combine(staging, Activations);
            var entries = new List<SafetensorsEntry> { new(ActivationsName, hidden) };
            if (reference is not null) entries.Add(new SafetensorsEntry(ReferenceName, reference));
            SafetensorsWriter.Write(activations + ".tmp", entries);
            File.Move(activations + ".tmp", activations, overwrite: true);
        }
        string record = Path.Combine(staging, FileName);
        File.WriteAllText(record + ".tmp", JsonSerializer.Serialize(this, Json));
        File.Move(record + ".tmp", record, overwrite: true);
        foreach (var old in Directory.GetFiles(staging, "activations-*.safetensors"))
            if (Path.GetFileName(old) != Activations) File.Delete(old);
    }

    /// <summary>The activations file name after <paramref name="finishedLayers"/> layers.</summary>
    public static string ActivationsFile(int finishedLayers) => $"activations-{finishedLayers:D5}.safetensors";

    /// <summary>
    /// Copies the activations saved with this record into <paramref name="destination"/> (same shape; converted to its
    /// dtype and device), and GPTAQ's original-model activations into <paramref name="reference"/> when given.
    /// </summary>
    /// <exception cref="InvalidDataException">The saved activations have another shape.</exception>
    public void LoadActivations(string staging, Tensor destination, Tensor? reference = null)
    {
        string path = Path.Combine(staging, Activations ?? throw new InvalidOperationException("this run has no activations"));
        using var file = SafetensorsFile.Open(path);
        Load(file, ActivationsName, destination);
        if (reference is not null) Load(file, ReferenceName, reference);

        void Load(SafetensorsFile file, string name, Tensor into)
        {
            using var scope = NewDisposeScope();
            var saved = file.Load(name, into.dtype, into.device);
            if (!saved.shape.SequenceEqual(into.shape))
                throw new InvalidDataException($"{path}: activations of shape [{string.Join(", ", saved.shape)}], expected [{string.Join(", ", into.shape)}]; delete {staging} to start again");
            into.copy_(saved);
        }
    }

    /// <summary>
    /// A hash of what decides a run's result: the model folder and its weight files' sizes, the recipe, the calibration
    /// token ids, and the options that change the numbers or the files (format, dtypes, device, batch size).
    /// </summary>
    public static string FingerprintOf(string modelFolder, CompressionRecipe recipe, IReadOnlyList<int[]> samples, SequentialOptions options)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        string folder = Path.GetFullPath(modelFolder);
        var weights = Directory.GetFiles(folder, "*.safetensors").Order(StringComparer.Ordinal).Select(f => $"{Path.GetFileName(f)}:{new FileInfo(f).Length}");
        string settings = string.Join('\n', folder, string.Join(',', weights), JsonSerializer.Serialize(recipe, Json),
            options.Format, options.ComputeDType, options.HessianDType, options.Device, options.BatchSize, samples.Count);
        hash.AppendData(Encoding.UTF8.GetBytes(settings));
        foreach (var sample in samples) hash.AppendData(System.Runtime.InteropServices.MemoryMarshal.AsBytes(sample.AsSpan()));
        return Convert.ToHexString(hash.GetHashAndReset());
    }

    static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals,
        Converters = { new System.Text.Json.Serialization.JsonStringEnumConverter() },
        IncludeFields = true,
    };
}
