using Kit.Models.Hub;

namespace Kit.Data;

/// <summary>Downloads a hub dataset split and lists its Parquet files.</summary>
internal static class HubDatasetFiles
{
    /// <summary>
    /// Downloads the split's Parquet files once into the hub cache and returns their local paths in name order.
    /// </summary>
    /// <exception cref="HubException">The hub lacks the dataset, or it has no Parquet files for the split.</exception>
    public static IReadOnlyList<string> Download(HubDatasetSpec spec, HubOptions? hubOptions, IProgress<DownloadProgress>? progress)
    {
        using var hub = new HubClient(hubOptions);
        string snapshot = hub.DownloadSnapshotAsync(spec.RepoId, RepoType.Dataset, spec.Revision, spec.AllowPatterns, progress)
            .GetAwaiter().GetResult();
        // The snapshot folder may also hold files of other splits fetched earlier, so select again here.
        var files = Directory.EnumerateFiles(snapshot, "*", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(snapshot, f).Replace(Path.DirectorySeparatorChar, '/'))
            .Where(f => HubGlob.MatchesAny(f, spec.AllowPatterns))
            .Order(StringComparer.Ordinal)
            .Select(f => Path.Combine(snapshot, f))
            .ToList();
        if (files.Count == 0)
            throw new HubException(
                $"dataset {spec.RepoId} (revision {spec.Revision}) has no Parquet files for split '{spec.Split}' matching {string.Join(" or ", spec.AllowPatterns)}; "
                + "name the config and split as org/name:config:split, or use the refs/convert/parquet revision (org/name@refs/convert/parquet:config:split)");
        return files;
    }
}
