using System.Text.Json;

namespace Kit.Models.Hub;

/// <summary>The part of <c>GET /api/{models|datasets}/{repo}/revision/{revision}</c> a download needs.</summary>
/// <param name="Sha">The commit the revision resolved to.</param>
/// <param name="Files">Every file's path in the repository (<c>siblings[].rfilename</c>).</param>
internal sealed record RepoInfo(string Sha, IReadOnlyList<string> Files)
{
    /// <summary>Parses the API's JSON; <paramref name="source"/> names the URL in errors.</summary>
    public static RepoInfo Parse(string json, string source)
    {
        using var doc = JsonDocument.Parse(json);
        var root = doc.RootElement;
        if (!root.TryGetProperty("sha", out var sha) || sha.ValueKind != JsonValueKind.String)
            throw new HubException($"The repository info from {source} has no string field 'sha'.");
        if (!root.TryGetProperty("siblings", out var siblings) || siblings.ValueKind != JsonValueKind.Array)
            throw new HubException($"The repository info from {source} has no array field 'siblings'.");
        var files = new List<string>();
        foreach (var sibling in siblings.EnumerateArray())
        {
            if (!sibling.TryGetProperty("rfilename", out var name) || name.ValueKind != JsonValueKind.String)
                throw new HubException($"An entry of 'siblings' in the repository info from {source} has no string field 'rfilename'.");
            files.Add(name.GetString()!);
        }
        return new RepoInfo(sha.GetString()!, files);
    }
}
