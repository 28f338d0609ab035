namespace Kit.Models.Hub;

/// <summary>What a request is for, so that errors can name the repository, revision and file.</summary>
internal sealed record HubTarget(string RepoId, RepoType Type, string Revision, string? File = null)
{
    /// <summary>E.g. <c>file 'config.json' of model repo 'org/name' at revision 'main'</c>.</summary>
    public string Describe() =>
        (File is null ? "" : $"file '{File}' of ") + $"{(Type == RepoType.Dataset ? "dataset" : "model")} repo '{RepoId}' at revision '{Revision}'";
}
