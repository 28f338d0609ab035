using System.Text.Json;
using System.Text.Json.Nodes;
using Kit.Models.Hub;

namespace Kit.Data;

/// <summary>Dataset records (JSON objects or Parquet rows, every field) from a file, a folder, or a hub dataset split.</summary>
public static class RecordFiles
{
    /// <summary>The file types read, by extension.</summary>
    public static IReadOnlyList<string> Extensions { get; } = [".parquet", ".jsonl", ".json", ".jsonl.gz", ".json.gz"];

    /// <summary>
    /// The data files of <paramref name="spec"/>: an existing file; an existing folder (its data files, recursively,
    /// in path order); or a hub dataset split <c>org/name[@revision][:config[:split]]</c> (see
    /// <see cref="HubDatasetSpec"/>), whose Parquet files are downloaded once into the hub cache.
    /// </summary>
    /// <exception cref="ArgumentException">The file type is unknown, or the folder holds no data files.</exception>
    /// <exception cref="FileNotFoundException">The spec is neither an existing path nor a hub dataset id.</exception>
    /// <exception cref="HubException">The hub lacks the dataset, or it has no Parquet files for the split.</exception>
    public static IReadOnlyList<string> Resolve(string spec, HubOptions? hub = null, IProgress<DownloadProgress>? progress = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(spec);
        if (File.Exists(spec))
            return IsDataFile(spec) ? [spec]
                : throw new ArgumentException($"{spec}: unknown data file type (Kit reads {string.Join(", ", Extensions)})", nameof(spec));
        if (Directory.Exists(spec))
        {
            var files = Directory.EnumerateFiles(spec, "*", SearchOption.AllDirectories).Where(IsDataFile).Order(StringComparer.Ordinal).ToList();
            return files.Count > 0 ? files
                : throw new ArgumentException($"folder {spec} holds no {string.Join(", ", Extensions)} files", nameof(spec));
        }
        // "data/test.jsonl" is also a well-formed repo id; a data file's extension says it was meant as a path.
        if (IsDataFile(spec)) throw new FileNotFoundException($"data file not found: {spec}", spec);
        if (HubDatasetSpec.TryParse(spec) is { } hubSpec) return HubDatasetFiles.Download(hubSpec, hub, progress);
        throw new FileNotFoundException(
            $"data '{spec}' is neither an existing file or folder nor a hub dataset id like org/name[@revision][:config[:split]]", spec);
    }

    /// <summary>The records of one Parquet or JSON file, in file order.</summary>
    /// <exception cref="ArgumentException">The file type is unknown.</exception>
    /// <exception cref="InvalidDataException">The file is unreadable, or a JSON record is not an object.</exception>
    public static IEnumerable<DataRecord> Read(string path)
    {
        if (path.EndsWith(".parquet", StringComparison.OrdinalIgnoreCase))
            return ParquetRecords.Read(path).Select(r => new DataRecord(r.Record, r.Where));
        if (IsDataFile(path)) return JsonRecordFile.Read(path).Select(r => ToRecord(r.Record, r.Where));
        throw new ArgumentException($"{path}: unknown data file type (Kit reads {string.Join(", ", Extensions)})", nameof(path));
    }

    static DataRecord ToRecord(JsonElement element, string where) => element.ValueKind == JsonValueKind.Object
        // Clone: the element's document is disposed once the enumeration moves on.
        ? new DataRecord(JsonObject.Create(element.Clone())!, where)
        : throw new InvalidDataException($"{where}: expected a JSON object, found {JsonRecordFile.Kind(element.ValueKind)}");

    static bool IsDataFile(string path) => Extensions.Any(e => path.EndsWith(e, StringComparison.OrdinalIgnoreCase));
}
