namespace Kit.Models.Hub;

/// <summary>The kind of hub repository; it picks the API path, the download path and the cache folder prefix.</summary>
public enum RepoType
{
    /// <summary>A model repository: <c>/api/models/…</c>, cached as <c>models--org--name</c>.</summary>
    Model,

    /// <summary>A dataset repository: <c>/api/datasets/…</c>, cached as <c>datasets--org--name</c>.</summary>
    Dataset,
}
