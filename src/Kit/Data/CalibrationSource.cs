using Kit.Models.Hub;

namespace Kit.Data;

/// <summary>Opens calibration text from a file, a folder, or a hub dataset split.</summary>
public static class CalibrationSource
{
    /// <summary>The file types <see cref="Open"/> reads, by extension.</summary>
    public static IReadOnlyList<string> Extensions { get; } = [".txt", ".jsonl", ".json", ".jsonl.gz", ".json.gz", ".parquet"];

    /// <summary>
    /// Opens <paramref name="spec"/>: an existing file (by extension, see <see cref="Extensions"/>); an existing
    /// folder (its <c>.parquet</c>, <c>.jsonl</c> and <c>.json</c> files, recursively, in path order); or a hub
    /// dataset split <c>org/name[@revision][:config[:split]]</c> (see <see cref="HubDatasetSpec"/>), whose Parquet
    /// files are downloaded once into the hub cache.
    /// </summary>
    /// <exception cref="ArgumentException">The file type is unknown, or the folder holds no data files.</exception>
    /// <exception cref="FileNotFoundException">The spec is neither an existing path nor a hub dataset id.</exception>
    /// <exception cref="HubException">The hub lacks the dataset, or it has no Parquet files for the split.</exception>
    public static ITextSource Open(string spec, SourceOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(spec);
        options ??= new SourceOptions();
        if (File.Exists(spec)) return OpenFile(spec, options);
        if (Directory.Exists(spec)) return OpenFolder(spec, options);
        // "data/train.jsonl" is also a well-formed repo id; a data file's extension says it was meant as a path.
        if (Extensions.Any(e => spec.EndsWith(e, StringComparison.OrdinalIgnoreCase)))
            throw new FileNotFoundException($"calibration file not found: {spec}", spec);
        if (HubDatasetSpec.TryParse(spec) is { } hub) return OpenHub(hub, options);
        throw new FileNotFoundException(
            $"calibration data '{spec}' is neither an existing file or folder nor a hub dataset id like org/name[@revision][:config[:split]]", spec);
    }

    /// <summary>Opens one file by its extension.</summary>
    /// <exception cref="ArgumentException">The extension is not one of <see cref="Extensions"/>.</exception>
    public static ITextSource OpenFile(string path, SourceOptions? options = null)
    {
        options ??= new SourceOptions();
        string name = Path.GetFileName(path).ToLowerInvariant();
        if (name.EndsWith(".txt", StringComparison.Ordinal)) return new TextFileSource(path, options.TextMode);
        if (name.EndsWith(".parquet", StringComparison.Ordinal)) return new ParquetSource(path, options.Fields);
        if (IsJson(name)) return new JsonRecordSource(path, options.Fields);
        throw new ArgumentException(
            $"{path}: unknown calibration file type '{Path.GetExtension(path)}' (Kit reads {string.Join(", ", Extensions)})", nameof(path));
    }

    static bool IsJson(string lowerName) =>
        lowerName.EndsWith(".jsonl", StringComparison.Ordinal) || lowerName.EndsWith(".json", StringComparison.Ordinal)
        || lowerName.EndsWith(".jsonl.gz", StringComparison.Ordinal) || lowerName.EndsWith(".json.gz", StringComparison.Ordinal);

    static ITextSource OpenFolder(string folder, SourceOptions options)
    {
        var files = Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories)
            .Where(f => Path.GetFileName(f).ToLowerInvariant() is var n && (n.EndsWith(".parquet", StringComparison.Ordinal) || IsJson(n)))
            .Order(StringComparer.Ordinal)
            .ToList();
        if (files.Count == 0)
            throw new ArgumentException($"folder {folder} holds no .parquet, .jsonl or .json files", nameof(folder));
        return new ConcatenatedSource(folder, files.Select(f => OpenFile(f, options)).ToList());
    }

    static ITextSource OpenHub(HubDatasetSpec spec, SourceOptions options) =>
        new ConcatenatedSource(spec.ToString(), HubDatasetFiles.Download(spec, options.Hub, options.DownloadProgress)
            .Select(f => (ITextSource)new ParquetSource(f, options.Fields)).ToList());
}
