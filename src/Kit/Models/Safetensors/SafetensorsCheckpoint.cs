using TorchSharp;

namespace Kit.Models.Safetensors;

/// <summary>
/// The safetensors weights of a Hugging Face model folder: one <c>model.safetensors</c>, a sharded set
/// listed by <c>model.safetensors.index.json</c>, or the only <c>*.safetensors</c> file there is.
/// Tensors are read one at a time from memory maps.
/// </summary>
public sealed class SafetensorsCheckpoint : IDisposable
{
    /// <summary>The file name of an unsharded checkpoint.</summary>
    public const string SingleFileName = "model.safetensors";

    readonly IReadOnlyList<SafetensorsFile> _files;
    readonly Dictionary<string, SafetensorsFile> _fileOf;
    readonly string _source;

    SafetensorsCheckpoint(string folder, string source, IReadOnlyList<SafetensorsFile> files,
        IReadOnlyList<string> names, Dictionary<string, SafetensorsFile> fileOf, IReadOnlyDictionary<string, string> metadata)
    {
        Folder = folder;
        _source = source;
        _files = files;
        Names = names;
        _fileOf = fileOf;
        Metadata = metadata;
    }

    /// <summary>The full path of the model folder.</summary>
    public string Folder { get; }

    /// <summary>The full paths of the safetensors files in use.</summary>
    public IReadOnlyList<string> Files => _files.Select(f => f.Path).ToArray();

    /// <summary>The index's <c>metadata</c> for a sharded checkpoint, otherwise the file's <c>__metadata__</c>.</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>Tensor names: the index's order when sharded, otherwise the file's storage order.</summary>
    public IReadOnlyList<string> Names { get; }

    /// <summary>Opens the checkpoint in <paramref name="folder"/>, validating every header and the index.</summary>
    /// <exception cref="DirectoryNotFoundException">The folder does not exist.</exception>
    /// <exception cref="FileNotFoundException">No safetensors file, or a shard the index names is missing.</exception>
    /// <exception cref="InvalidDataException">A corrupt header or index, several unindexed files, or an indexed tensor absent from its shard.</exception>
    public static SafetensorsCheckpoint Open(string folder)
    {
        folder = Path.GetFullPath(folder);
        if (!Directory.Exists(folder)) throw new DirectoryNotFoundException($"{folder}: no such model folder");

        // Hugging Face prefers the single file when both layouts are present.
        var single = Path.Combine(folder, SingleFileName);
        if (File.Exists(single)) return OpenSingle(folder, single);
        var index = Path.Combine(folder, SafetensorsIndex.FileName);
        if (File.Exists(index)) return OpenSharded(folder, index);

        var candidates = Directory.GetFiles(folder, "*.safetensors").Order(StringComparer.Ordinal).ToArray();
        return candidates.Length switch
        {
            1 => OpenSingle(folder, candidates[0]),
            0 => throw new FileNotFoundException($"{folder}: no {SingleFileName}, {SafetensorsIndex.FileName} or other *.safetensors file"),
            _ => throw new InvalidDataException(
                $"{folder}: {candidates.Length} safetensors files ({string.Join(", ", candidates.Select(Path.GetFileName))}) but no {SafetensorsIndex.FileName} to say how they fit together"),
        };
    }

    static SafetensorsCheckpoint OpenSingle(string folder, string path)
    {
        var file = SafetensorsFile.Open(path);
        return new SafetensorsCheckpoint(folder, path, [file], file.Names,
            file.Names.ToDictionary(n => n, _ => file), file.Metadata);
    }

    static SafetensorsCheckpoint OpenSharded(string folder, string indexPath)
    {
        var index = SafetensorsIndex.Read(indexPath);
        var shards = new Dictionary<string, SafetensorsFile>(StringComparer.Ordinal);
        try
        {
            var fileOf = new Dictionary<string, SafetensorsFile>(StringComparer.Ordinal);
            foreach (var (name, shardName) in index.WeightMap)
            {
                if (!shards.TryGetValue(shardName, out var shard))
                {
                    var shardPath = Path.Combine(folder, shardName);
                    if (!File.Exists(shardPath))
                        throw new FileNotFoundException($"{indexPath}: shard '{shardName}' (holding tensor '{name}') is missing from {folder}", shardPath);
                    shards[shardName] = shard = SafetensorsFile.Open(shardPath);
                }
                if (!shard.Contains(name))
                    throw new InvalidDataException($"{indexPath}: tensor '{name}' is listed in shard '{shardName}' but {shard.Path} does not hold it");
                fileOf[name] = shard;
            }
            return new SafetensorsCheckpoint(folder, indexPath, shards.Values.ToArray(),
                index.WeightMap.Select(e => e.Key).ToArray(), fileOf, index.Metadata);
        }
        catch
        {
            foreach (var shard in shards.Values) shard.Dispose();
            throw;
        }
    }

    /// <summary>True when the checkpoint holds a tensor called <paramref name="name"/>.</summary>
    public bool Contains(string name) => _fileOf.ContainsKey(name);

    /// <summary>The header entry of <paramref name="name"/> in the file that holds it.</summary>
    /// <exception cref="KeyNotFoundException">No such tensor; the message names it and the folder.</exception>
    public TensorInfo Info(string name) => FileOf(name).Info(name);

    /// <summary>The full path of the file holding <paramref name="name"/>.</summary>
    public string PathOf(string name) => FileOf(name).Path;

    /// <summary>The stored bytes of <paramref name="name"/>; see <see cref="SafetensorsFile.RawBytes"/>.</summary>
    public ReadOnlySpan<byte> RawBytes(string name) => FileOf(name).RawBytes(name);

    /// <summary>Copies tensor <paramref name="name"/> into a new tensor; see <see cref="SafetensorsFile.Load"/>.</summary>
    public torch.Tensor Load(string name, torch.ScalarType? dtype = null, torch.Device? device = null) =>
        FileOf(name).Load(name, dtype, device);

    /// <summary>A tensor over <paramref name="name"/>'s mapped bytes, or null; see <see cref="SafetensorsFile.Map"/>.</summary>
    public torch.Tensor? Map(string name) => FileOf(name).Map(name);

    /// <summary>Whether every stored value of <paramref name="name"/> is finite; see <see cref="SafetensorsFile.AllFinite"/>.</summary>
    public bool AllFinite(string name) => FileOf(name).AllFinite(name);

    /// <summary>Copies <paramref name="name"/>'s bytes into a matching CPU tensor; see <see cref="SafetensorsFile.CopyInto"/>.</summary>
    public void CopyInto(string name, torch.Tensor destination) => FileOf(name).CopyInto(name, destination);

    SafetensorsFile FileOf(string name) =>
        _fileOf.TryGetValue(name, out var file) ? file
            : throw new KeyNotFoundException($"{Folder}: no tensor named '{name}' in {Path.GetFileName(_source)}");

    /// <summary>Unmaps every file.</summary>
    public void Dispose()
    {
        foreach (var file in _files) file.Dispose();
    }
}
