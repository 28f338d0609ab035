using Kit.Models.Hub;

namespace Kit.Data;

/// <summary>
/// A hub dataset split written <c>org/name[@revision][:config[:split]]</c>, e.g.
/// <c>Salesforce/wikitext:wikitext-2-raw-v1:train</c>, <c>HuggingFaceH4/ultrachat_200k::train_sft</c> (no config)
/// or <c>allenai/c4@refs/convert/parquet:en:validation</c>. The split defaults to <c>train</c>, the revision to
/// <c>main</c>.
/// </summary>
/// <param name="RepoId">The dataset repository.</param>
/// <param name="Revision">Branch, tag or commit.</param>
/// <param name="Config">The configuration (the first folder of its Parquet files), or null for <c>data/</c>.</param>
/// <param name="Split">The split (the prefix of its Parquet file names).</param>
public sealed record HubDatasetSpec(string RepoId, string Revision, string? Config, string Split)
{
    /// <summary>Parses <paramref name="spec"/>, or returns null when it is not a hub dataset id.</summary>
    public static HubDatasetSpec? TryParse(string spec)
    {
        if (string.IsNullOrWhiteSpace(spec) || spec.StartsWith('.') || spec.StartsWith('/')) return null;
        string[] parts = spec.Split(':');
        if (parts.Length > 3) return null;
        string[] repoAndRevision = parts[0].Split('@', 2);
        string repo = repoAndRevision[0];
        string revision = repoAndRevision.Length == 2 ? repoAndRevision[1] : "main";
        if (!HubRepoId.IsValid(repo) || revision.Length == 0) return null;
        string? config = parts.Length > 1 && parts[1].Length > 0 ? parts[1] : null;
        string split = parts.Length > 2 && parts[2].Length > 0 ? parts[2] : "train";
        return new HubDatasetSpec(repo, revision, config, split);
    }

    /// <summary>
    /// Where the hub keeps the split's Parquet files: <c>{config}/{split}-*.parquet</c> (or <c>data/</c> without a
    /// config), as <c>datasets.push_to_hub</c> writes them, and <c>{config}/{split}/*.parquet</c> as the
    /// <c>refs/convert/parquet</c> branch lays them out (its config without a name is <c>default</c>).
    /// </summary>
    public IReadOnlyList<string> AllowPatterns => Config is { } config
        ? [$"{config}/{Split}-*.parquet", $"{config}/{Split}/*.parquet"]
        : [$"data/{Split}-*.parquet", $"default/{Split}/*.parquet"];

    /// <summary>The spec written back, with defaults filled in.</summary>
    public override string ToString() => $"{RepoId}@{Revision}:{Config}:{Split}";
}
