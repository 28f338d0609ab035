using System.Text.RegularExpressions;

namespace Kit.Models.Hub;

/// <summary>
/// One repository's folder in the hub cache, laid out as <c>huggingface_hub</c> does: content-addressed
/// <c>blobs/{etag}</c>, <c>snapshots/{commit}/{path}</c> as relative symlinks into <c>blobs/</c>, and
/// <c>refs/{revision}</c> holding the commit a branch or tag pointed at when last downloaded.
/// </summary>
internal sealed partial class HubCache
{
    [GeneratedRegex("^[0-9a-f]{40}$")]
    internal static partial Regex CommitHash();

    // Etags become file names; hub etags are hex digests, CDN ones may add '-'.
    [GeneratedRegex(@"^[A-Za-z0-9_\-][A-Za-z0-9_.\-]*$")]
    private static partial Regex BlobName();

    public HubCache(string cacheDir, string repoId, RepoType type) =>
        RepoFolder = Path.GetFullPath(Path.Combine(cacheDir, HubRepoId.FolderName(repoId, type)));

    /// <summary>The repository's folder, e.g. <c>{cache}/models--org--name</c>.</summary>
    public string RepoFolder { get; }

    /// <summary>The blob a file with this normalized etag is stored as.</summary>
    public string BlobPath(string etag)
    {
        if (!BlobName().IsMatch(etag))
            throw new HubException($"ETag '{etag}' from the hub cannot be used as a blob name in {RepoFolder}/blobs.");
        return Path.Combine(RepoFolder, "blobs", etag);
    }

    /// <summary>The snapshot folder of a commit.</summary>
    public string SnapshotFolder(string commit)
    {
        if (!CommitHash().IsMatch(commit))
            throw new HubException($"Commit '{commit}' from the hub is not a 40-hex commit hash (repository {RepoFolder}).");
        return Path.Combine(RepoFolder, "snapshots", commit);
    }

    /// <summary>Where a repository file of a commit appears; a path that would leave the snapshot is refused.</summary>
    public string PointerPath(string commit, string file)
    {
        string snapshot = SnapshotFolder(commit);
        string pointer = Path.GetFullPath(Path.Combine(snapshot, file));
        if (!pointer.StartsWith(snapshot + Path.DirectorySeparatorChar, StringComparison.Ordinal))
            throw new HubException($"File name '{file}' from the hub would be written outside {snapshot}.");
        return pointer;
    }

    /// <summary>The commit a revision resolves to from the cache alone: a commit hash is itself, a branch or tag is read from <c>refs/</c>.</summary>
    public string? ResolveCached(string revision)
    {
        if (CommitHash().IsMatch(revision)) return revision;
        string refPath = RefPath(revision);
        return File.Exists(refPath) && File.ReadAllText(refPath).Trim() is var commit && CommitHash().IsMatch(commit) ? commit : null;
    }

    /// <summary>Records that <paramref name="revision"/> pointed at <paramref name="commit"/>; commit hashes need no ref.</summary>
    public void WriteRef(string revision, string commit)
    {
        if (revision == commit) return;
        string refPath = RefPath(revision);
        if (File.Exists(refPath) && File.ReadAllText(refPath) == commit) return;
        Directory.CreateDirectory(Path.GetDirectoryName(refPath)!);
        // Written beside and renamed so a concurrent reader never sees a half-written hash.
        string temp = refPath + "." + Guid.NewGuid().ToString("N") + ".tmp";
        File.WriteAllText(temp, commit);
        File.Move(temp, refPath, overwrite: true);
    }

    /// <summary>
    /// Makes <paramref name="pointer"/> show <paramref name="blob"/>: a relative symlink (so the cache can be moved),
    /// or a copy where the file system refuses symlinks. Either appears in one step, never half-written.
    /// </summary>
    public static void Link(string blob, string pointer)
    {
        string folder = Path.GetDirectoryName(pointer)!;
        Directory.CreateDirectory(folder);
        File.Delete(pointer); // a dangling link left by a removed blob
        try
        {
            File.CreateSymbolicLink(pointer, Path.GetRelativePath(folder, blob));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or PlatformNotSupportedException)
        {
            string temp = blob + "." + Guid.NewGuid().ToString("N") + ".tmp";
            File.Copy(blob, temp);
            File.Move(temp, pointer, overwrite: true);
        }
    }

    string RefPath(string revision)
    {
        string refs = Path.Combine(RepoFolder, "refs");
        string refPath = Path.GetFullPath(Path.Combine(refs, revision));
        if (!refPath.StartsWith(refs + Path.DirectorySeparatorChar, StringComparison.Ordinal))
            throw new ArgumentException($"Revision '{revision}' would name a ref outside {refs}.", nameof(revision));
        return refPath;
    }
}
