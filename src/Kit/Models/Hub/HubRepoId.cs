using System.Text.RegularExpressions;

namespace Kit.Models.Hub;

/// <summary>Hub repository ids (<c>org/name</c> or <c>name</c>) and their cache folder names.</summary>
public static partial class HubRepoId
{
    // huggingface_hub's validate_repo_id: word characters, '-' and '.', each part starting and ending with a
    // letter, digit or '_'; no "--" or ".." (they would collide with the cache's "--" separator); at most 96 chars.
    [GeneratedRegex(@"^(?:[A-Za-z0-9_](?:[A-Za-z0-9_.\-]*[A-Za-z0-9_])?/)?[A-Za-z0-9_](?:[A-Za-z0-9_.\-]*[A-Za-z0-9_])?$")]
    private static partial Regex Shape();

    /// <summary>True when <paramref name="repoId"/> is a well-formed hub repository id.</summary>
    public static bool IsValid(string? repoId) => Problem(repoId) is null;

    /// <summary>Throws <see cref="ArgumentException"/> saying what is wrong when <paramref name="repoId"/> is not a valid id.</summary>
    public static void Validate(string? repoId)
    {
        if (Problem(repoId) is { } problem)
            throw new ArgumentException($"Repository id '{repoId}' is invalid: {problem}.", nameof(repoId));
    }

    /// <summary>The cache folder name: <c>models--org--name</c> or <c>datasets--org--name</c>.</summary>
    public static string FolderName(string repoId, RepoType type) =>
        (type == RepoType.Dataset ? "datasets" : "models") + "--" + repoId.Replace("/", "--", StringComparison.Ordinal);

    static string? Problem(string? repoId)
    {
        if (string.IsNullOrEmpty(repoId)) return "it is empty";
        if (repoId.Length > 96) return "it is longer than 96 characters";
        if (repoId.Count(c => c == '/') > 1) return "expected 'org/name' or 'name', with at most one '/'";
        if (repoId.Contains("--", StringComparison.Ordinal) || repoId.Contains("..", StringComparison.Ordinal))
            return "'--' and '..' are not allowed";
        if (repoId.EndsWith(".git", StringComparison.Ordinal)) return "it must not end with '.git'";
        if (!Shape().IsMatch(repoId))
            return "use letters, digits, '-', '_' and '.', and start and end each part with a letter, digit or '_'";
        return null;
    }
}
